"""An outbox worker process of `test_sqlalchemy_outbox`: run with `runpy.run_path`.

Publishes the outbox in batches, appending each published position to `out` (flushed at once,
so a killed worker leaves a true record). After `block_after` publications it hangs inside
its transaction, waiting to be killed.
"""

from __future__ import annotations

import os
import time
from typing import Any

from event_sourcery import Event, Recorded
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from sqlalchemy import create_engine
from sqlalchemy.orm import Session


class Parcel(Event):
    __event_name__ = "es_integration.Parcel"
    n: int


def work(url: str, out: str, block_after: int | None, seconds: float, pause: float) -> None:
    engine = create_engine(url)
    published = 0
    with Session(engine) as session, open(out, "a") as file:
        outbox = SQLAlchemyBackend(session).outbox

        def publish(record: Recorded) -> None:
            nonlocal published
            if block_after is not None and published >= block_after:
                time.sleep(3600)  # mid-batch, entries claimed: the parent kills us here
            file.write(f"{record.position}\n")
            file.flush()
            os.fsync(file.fileno())
            published += 1
            time.sleep(pause)

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            outbox.run(publish, limit=10)
            session.commit()


params: dict[str, Any] = globals().get("PARAMS", {})
if params:
    work(**params)
