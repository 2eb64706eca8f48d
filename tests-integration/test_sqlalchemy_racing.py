"""Sessions racing on one stream, on real databases: exactly one wins, the others get
`ConcurrentStreamWriteError` (never a driver error), and the session stays usable."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from event_sourcery import NO_VERSIONING, Event, StreamId
from event_sourcery.exceptions import ConcurrentStreamWriteError, StorageError
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from sqlalchemy import Engine
from sqlalchemy.orm import Session

# Threads need separate connections: the in-memory SQLite database has only one.
pytestmark = pytest.mark.parametrize(
    "database_engine", ["sqlite_file", "postgresql", "mariadb"], indirect=True
)

WRITERS = 4


class Raced(Event):
    __event_name__ = "es_integration.Raced"
    writer: int


def _append_and_commit(
    engine: Engine, stream: StreamId, expected: int, writer: int, start: threading.Barrier
) -> str:
    with Session(engine) as session:
        store = SQLAlchemyBackend(session).event_store
        store.load_stream(stream)  # every writer decides on the same state
        start.wait()
        try:
            store.append(Raced(writer=writer), stream_id=stream, expected_version=expected)
        except ConcurrentStreamWriteError:
            session.rollback()
            return "conflict"
        session.commit()
        return "won"


def _race(engine: Engine, stream: StreamId, expected: int) -> list[str]:
    start = threading.Barrier(WRITERS)
    with ThreadPoolExecutor(WRITERS) as pool:
        futures = [
            pool.submit(_append_and_commit, engine, stream, expected, writer, start)
            for writer in range(WRITERS)
        ]
        return sorted(future.result(timeout=120) for future in futures)


def _versions(engine: Engine, stream: StreamId) -> list[int | None]:
    with Session(engine) as session:
        return [w.version for w in SQLAlchemyBackend(session).event_store.load_stream(stream)]


def test_racing_appends_to_an_existing_stream(database_engine: Engine) -> None:
    stream = StreamId(name=f"raced-{StreamId()}", category="race")
    with Session(database_engine) as session:
        SQLAlchemyBackend(session).event_store.append(Raced(writer=-1), stream_id=stream)
        session.commit()
    assert _race(database_engine, stream, expected=1) == ["conflict"] * (WRITERS - 1) + ["won"]
    assert _versions(database_engine, stream) == [1, 2]


def test_racing_creations_of_one_stream(database_engine: Engine) -> None:
    stream = StreamId(category="race")
    assert _race(database_engine, stream, expected=0) == ["conflict"] * (WRITERS - 1) + ["won"]
    assert _versions(database_engine, stream) == [1]


def test_racing_versionless_appends_all_land(database_engine: Engine) -> None:
    stream = StreamId(category="race")
    start = threading.Barrier(WRITERS)

    def append(writer: int) -> None:
        with Session(database_engine) as session:
            start.wait()
            for _ in range(5):
                try:
                    SQLAlchemyBackend(session).event_store.append(
                        Raced(writer=writer), stream_id=stream, expected_version=NO_VERSIONING
                    )
                    session.commit()
                    return
                except StorageError as error:
                    # MariaDB only: writers racing to create one versionless stream can deadlock
                    # (each holds the shared lock of its duplicate-key error). InnoDB rolls the
                    # victim's transaction back; the library reports it, and retrying is the
                    # documented answer. Nothing else may fail here.
                    if "deadlock" not in str(error).lower():
                        raise
                    session.rollback()
            raise AssertionError(f"writer {writer} deadlocked five times in a row")

    with ThreadPoolExecutor(WRITERS) as pool:
        for future in [pool.submit(append, writer) for writer in range(WRITERS)]:
            future.result(timeout=120)
    assert _versions(database_engine, stream) == [None] * WRITERS


def test_the_second_writer_waits_then_loses_and_can_go_on(database_engine: Engine) -> None:
    stream = StreamId(category="race")
    with Session(database_engine) as first, Session(database_engine) as second:
        SQLAlchemyBackend(first).event_store.append(Raced(writer=1), stream_id=stream)
        outcome: list[BaseException | None] = []

        def append_second() -> None:
            try:
                SQLAlchemyBackend(second).event_store.append(Raced(writer=2), stream_id=stream)
                outcome.append(None)
            except BaseException as error:
                outcome.append(error)

        racer = threading.Thread(target=append_second)
        racer.start()
        racer.join(0.5)
        assert racer.is_alive(), "the second writer should wait for the first one's commit"
        first.commit()
        racer.join(60)
        assert len(outcome) == 1
        assert isinstance(outcome[0], ConcurrentStreamWriteError), outcome
        assert outcome[0].actual_version == 1
        # The loser's transaction is still usable: decide again and append at the new version.
        store = SQLAlchemyBackend(second).event_store
        assert [w.event for w in store.load_stream(stream)] == [Raced(writer=1)]
        store.append(Raced(writer=2), stream_id=stream, expected_version=1)
        second.commit()
    assert _versions(database_engine, stream) == [1, 2]
