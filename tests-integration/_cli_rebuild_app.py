"""The application of ``test_cli_rebuild.py``: totals per category, as ``--app`` loads it.

``ES_REBUILD_URL`` names the store. The handler adds each event to the batch's pending
totals; the unit of work writes them with the checkpoint, in one transaction, so the read
model moves by whole batches (as a real projection writing in batches would).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from event_sourcery import Backend, Event, Projector, Recorded, Worker
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

_UPSERT = text(
    "INSERT INTO rebuild_totals (category, events, amount) VALUES (:category, :events, :amount) "
    "ON CONFLICT (category) DO UPDATE SET events = rebuild_totals.events + :events, "
    "amount = rebuild_totals.amount + :amount"
)


class Earned(Event):
    """What the test appends."""

    amount: int


def make_worker() -> Worker:
    """A worker with the projection ``totals``."""
    session = Session(create_engine(os.environ["ES_REBUILD_URL"]))
    session.execute(
        text(
            "CREATE TABLE IF NOT EXISTS rebuild_totals "
            "(category TEXT PRIMARY KEY, events INT NOT NULL, amount BIGINT NOT NULL)"
        )
    )
    session.commit()
    events: Counter[str] = Counter()
    amounts: Counter[str] = Counter()

    def add(record: Recorded) -> None:
        category = record.stream_id.category or "-"
        events[category] += 1
        amounts[category] += record.wrapped_event.event.amount

    def clear() -> None:
        events.clear()
        amounts.clear()
        session.execute(text("DELETE FROM rebuild_totals"))

    @contextmanager
    def unit_of_work(backend: Backend) -> Iterator[None]:
        try:
            yield
            rows = [{"category": c, "events": n, "amount": amounts[c]} for c, n in events.items()]
            if rows:
                session.execute(_UPSERT, rows)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            events.clear()
            amounts.clear()

    backend = SQLAlchemyBackend(session)
    projector = Projector(backend, name="totals", handler=add, on_reset=clear)
    return Worker(backend, projectors=[projector], unit_of_work=unit_of_work, batch_size=1000)
