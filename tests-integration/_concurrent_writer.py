"""A writer process of `test_sqlalchemy_concurrency`: run with `runpy.run_path`.

Appends small batches to fresh streams of one category until a deadline, sleeping at random
inside its transactions (so commits come out of position order) and rolling some back (so the
log has gaps). Writes the uuids of the events it committed to `out`, one per line.
"""

from __future__ import annotations

import random
import time
from typing import Any

from event_sourcery import Event, StreamId
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from sqlalchemy import create_engine
from sqlalchemy.orm import Session


class Tick(Event):
    __event_name__ = "es_integration.Tick"
    writer: int
    n: int


def write(url: str, category: str, writer: int, seconds: float, out: str) -> None:
    # SQLite: eight processes queue for one write lock; wait for it longer than the default.
    options = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    engine = create_engine(url, **options)
    rng = random.Random(writer)
    committed: list[str] = []
    deadline = time.monotonic() + seconds
    n = 0
    with Session(engine) as session:
        store = SQLAlchemyBackend(session).event_store
        while time.monotonic() < deadline:
            events = [Tick(writer=writer, n=n + i) for i in range(rng.randint(1, 3))]
            n += len(events)
            store.append(*events, stream_id=StreamId(category=category))
            time.sleep(rng.random() * 0.004)  # inside the transaction: commits out of order
            if rng.random() < 0.1:
                session.rollback()
                continue
            session.commit()
            committed.extend(f"{writer}:{event.n}" for event in events)
    engine.dispose()
    with open(out, "w") as file:
        file.write("\n".join(committed))


params: dict[str, Any] = globals().get("PARAMS", {})
if params:
    write(**params)
