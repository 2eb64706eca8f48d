"""Subscriptions on SQLAlchemy when the database misbehaves under them (issue 11, defects 1, 4).

- A subscription waiting for new events whose connection dies raises a `StorageError` (the
  driver's error chained), never a driver or SQLAlchemy error; rebuilt from its checkpoint, it
  resumes with nothing missed.
- A writer whose connection selects another database while its transaction is open still
  holds its position: the subscription waits for it rather than passing the position as a gap.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from uuid import uuid4

import pytest
from event_sourcery import Event, StreamId
from event_sourcery.exceptions import StorageError
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from sqlalchemy import URL, Engine, create_engine, text
from sqlalchemy.orm import Session


class Fault(Event):
    __event_name__ = "es_integration.Fault"
    which: str


def _terminate_later(engine: Engine, application_name: str, after: float) -> threading.Thread:
    """Kill every session named `application_name` after `after` seconds (in a thread)."""

    def kill() -> None:
        time.sleep(after)
        with engine.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name"
                ),
                {"name": application_name},
            )
            connection.commit()

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


def test_postgresql_listen_connection_killed_while_waiting_is_a_storage_error(
    postgresql_engine: Engine,
) -> None:
    category = f"killed-{uuid4().hex}"
    name = f"es-fault-{uuid4().hex[:12]}"
    # The subscription's own engine, named so that only its connection is killed. Pooled: the
    # dead connection must not be handed to the subscription rebuilt after the fault.
    listening = create_engine(postgresql_engine.url, connect_args={"application_name": name})
    try:
        with Session(postgresql_engine) as writer, Session(listening) as reader:
            store = SQLAlchemyBackend(writer).event_store
            store.append(Fault(which="before"), stream_id=StreamId(category=category))
            writer.commit()
            subscriber = SQLAlchemyBackend(reader).subscriber.to_category(category)
            records = subscriber.start_from(0).build_iter(timelimit=3)
            first = next(records)
            assert first is not None
            assert first.wrapped_event.event.which == "before"
            checkpoint = first.position
            killer = _terminate_later(postgresql_engine, name, after=0.5)
            with pytest.raises(StorageError) as caught:
                next(records)  # waiting on LISTEN when its connection dies
            killer.join()
            assert caught.value.__cause__ is not None  # the driver's error, for debugging
            # What commits meanwhile is delivered to the subscription rebuilt from its checkpoint.
            store.append(Fault(which="after"), stream_id=StreamId(category=category))
            writer.commit()
            resumed = subscriber.start_from(checkpoint).build_iter(timelimit=3)
            again = next(resumed)
            assert again is not None
            assert again.wrapped_event.event.which == "after"
    finally:
        listening.dispose()


@contextlib.contextmanager
def _writer_elsewhere(
    engine: Engine, category: str, empty_database: Callable[[str], URL]
) -> Iterator[None]:
    """E1 appended on one connection, which then moves away (below) and keeps its transaction
    open, and E2 appended and committed on another; at the end of the block the first moves
    back and commits.

    Moving away, MariaDB: ``USE`` of another database. PostgreSQL: a session cannot change
    its database; what it can change (search path, application name, role) must not hide it
    either (``SET LOCAL`` ends with the transaction)."""
    with Session(engine) as first, Session(engine) as second:
        SQLAlchemyBackend(first).event_store.append(
            Fault(which="E1"), stream_id=StreamId(category=category)
        )
        if engine.dialect.name == "postgresql":
            away = [
                "SET LOCAL search_path TO pg_catalog",
                "SET LOCAL application_name TO 'elsewhere'",
                "SET LOCAL ROLE pg_monitor",
            ]
            back = []
        else:
            home = first.execute(text("SELECT DATABASE()")).scalar_one()
            away, back = [f"USE `{empty_database('mariadb').database}`"], [f"USE `{home}`"]
        for statement in away:
            first.execute(text(statement))
        SQLAlchemyBackend(second).event_store.append(
            Fault(which="E2"), stream_id=StreamId(category=category)
        )
        second.commit()
        try:
            yield
        finally:  # a connection must not go back to the pool in another database
            for statement in back:
                first.execute(text(statement))
        first.commit()


@pytest.mark.parametrize("database_engine", ["mariadb", "postgresql"], indirect=True)
def test_writer_whose_connection_moves_to_another_database_is_still_waited_for(
    database_engine: Engine, empty_database: Callable[[str], URL]
) -> None:
    """E1 appended on connection 1, which then runs ``USE other_db`` (MariaDB); E2 appended and
    committed on connection 2. E2 must wait for E1's transaction: it was delivered at once,
    and E1, once committed, never (the gap below E2 was passed as final). On PostgreSQL the
    test pins the rule (see `_writer_elsewhere`)."""
    category = f"moved-{uuid4().hex}"
    with Session(database_engine) as reader:
        start = SQLAlchemyBackend(reader).event_store.position
        reader.commit()
        subscriber = SQLAlchemyBackend(reader).subscriber.start_from(start).to_category(category)
        records = subscriber.build_iter(timelimit=0.3)
        assert next(records) is None
        with _writer_elsewhere(database_engine, category, empty_database):
            assert next(records) is None  # E2 held back behind E1's position
        got = [next(records), next(records)]
        assert [r.wrapped_event.event.which for r in got if r] == ["E1", "E2"]


@pytest.mark.parametrize("database_engine", ["mariadb", "postgresql"], indirect=True)
def test_position_waits_for_a_writer_whose_connection_moves_to_another_database(
    database_engine: Engine, empty_database: Callable[[str], URL]
) -> None:
    """`store.position` promises that nothing lower can still appear: it must wait for E1's
    transaction too (it returned at once, above E1's uncommitted position)."""
    answers: list[int] = []

    def ask() -> None:
        with Session(database_engine) as asking:
            answers.append(SQLAlchemyBackend(asking).event_store.position)

    asking = threading.Thread(target=ask, daemon=True)
    with _writer_elsewhere(database_engine, f"moved-position-{uuid4().hex}", empty_database):
        asking.start()
        asking.join(1.0)
        assert not answers  # still waiting for E1's transaction
    asking.join(10)
    assert answers  # once it has ended
