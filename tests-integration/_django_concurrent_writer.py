"""A writer process of `test_django_concurrency`: run with `runpy.run_path`.

The Django twin of `_concurrent_writer.py`: appends small batches to fresh streams of one
category until a deadline, in `transaction.atomic()` blocks that sleep at random before they
commit (so commits come out of position order) and roll some back (so the log has gaps).
Writes the keys of the events it committed to `out`, one per line.
"""

from __future__ import annotations

import random
import time
from typing import Any


def write(database: dict[str, Any], category: str, writer: int, seconds: float, out: str) -> None:
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "event_sourcery_django"],
        DATABASES={"default": database},
        USE_TZ=True,
    )
    django.setup()
    from django.db import transaction
    from event_sourcery import Event, StreamId
    from event_sourcery_django import DjangoBackend

    class Tick(Event):
        __event_name__ = "es_integration.DjangoTick"
        writer: int
        n: int

    store = DjangoBackend().event_store
    rng = random.Random(writer)
    committed: list[str] = []
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        events = [Tick(writer=writer, n=n + i) for i in range(rng.randint(1, 3))]
        n += len(events)
        rolled_back = rng.random() < 0.1
        with transaction.atomic():
            store.append(*events, stream_id=StreamId(category=category))
            time.sleep(rng.random() * 0.004)  # inside the transaction: commits out of order
            if rolled_back:
                transaction.set_rollback(True)
        if not rolled_back:
            committed.extend(f"{writer}:{event.n}" for event in events)
    with open(out, "w") as file:
        file.write("\n".join(committed))


params: dict[str, Any] = globals().get("PARAMS", {})
if params:
    write(**params)
