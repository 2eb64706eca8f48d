"""An application for ``--app es_cli_app:make_worker``: a projection of totals per category.

The read model is a table of the store's database, written in the projection's transaction.
``ES_CLI_URL`` names the store; ``ES_CLI_INTERRUPT_AFTER`` makes the handler raise
`KeyboardInterrupt` (as Ctrl-C would) once it has applied that many events in this process.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from event_sourcery import Backend, Event, Projector, Recorded, Worker
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

applied: list[int] = []


class Tick(Event):
    """The application's event (a worker process must import the classes it decodes)."""


def totals(url: str) -> dict[str, int]:
    """The read model: events per category."""
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT category, total FROM cli_totals")).all()
    engine.dispose()
    return dict(rows)  # type: ignore[arg-type]


def make_worker() -> Worker:
    """The worker of the tests' application."""
    session = Session(create_engine(os.environ["ES_CLI_URL"]))
    session.execute(
        text("CREATE TABLE IF NOT EXISTS cli_totals (category TEXT PRIMARY KEY, total INT)")
    )
    session.commit()
    interrupt_after = int(os.environ.get("ES_CLI_INTERRUPT_AFTER", "0"))

    def count(record: Recorded) -> None:
        if interrupt_after and len(applied) >= interrupt_after:
            raise KeyboardInterrupt
        applied.append(record.position)
        session.execute(
            text(
                "INSERT INTO cli_totals (category, total) VALUES (:c, 1) "
                "ON CONFLICT (category) DO UPDATE SET total = cli_totals.total + 1"
            ),
            {"c": record.stream_id.category or "-"},
        )

    @contextmanager
    def unit_of_work(backend: Backend) -> Iterator[None]:
        try:
            yield
        except BaseException:
            session.rollback()
            raise
        session.commit()

    backend = SQLAlchemyBackend(session)
    projector = Projector(
        backend,
        name="totals",
        handler=count,
        on_reset=lambda: session.execute(text("DELETE FROM cli_totals")),
    )
    return Worker(backend, projectors=[projector], unit_of_work=unit_of_work, idle_wait=0.1)
