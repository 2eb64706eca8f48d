"""Two sessions appending to one stream on a SQLite file: exactly one wins."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from event_sourcery import StreamId
from event_sourcery.exceptions import ConcurrentStreamWriteError
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ._events import Deposited


def _append_and_commit(
    engine: Engine, stream: StreamId, expected: int, amount: int, start: threading.Barrier
) -> str:
    with Session(engine) as session:
        store = SQLAlchemyBackend(session).event_store
        store.load_stream(stream)  # both decide on the same state
        start.wait()
        try:
            store.append(Deposited(amount=amount), stream_id=stream, expected_version=expected)
        except ConcurrentStreamWriteError:
            session.rollback()
            return "conflict"
        session.commit()
        return "won"


def _race(engine: Engine, stream: StreamId, expected: int, writers: int) -> list[Any]:
    start = threading.Barrier(writers)
    with ThreadPoolExecutor(writers) as pool:
        futures = [
            pool.submit(_append_and_commit, engine, stream, expected, amount, start)
            for amount in range(writers)
        ]
        return sorted(future.result(timeout=60) for future in futures)


def test_racing_appends_to_an_existing_stream(file_db: Engine) -> None:
    stream = StreamId(name="raced")
    with Session(file_db) as session:
        SQLAlchemyBackend(session).event_store.append(Deposited(amount=-1), stream_id=stream)
        session.commit()
    assert _race(file_db, stream, expected=1, writers=4) == ["conflict"] * 3 + ["won"]
    with Session(file_db) as session:
        assert len(SQLAlchemyBackend(session).event_store.load_stream(stream)) == 2


def test_racing_creations_of_one_stream(file_db: Engine) -> None:
    stream = StreamId()
    assert _race(file_db, stream, expected=0, writers=4) == ["conflict"] * 3 + ["won"]


def test_the_second_writer_waits_then_loses(file_db: Engine) -> None:
    stream = StreamId()
    with Session(file_db) as first, Session(file_db) as second:
        SQLAlchemyBackend(first).event_store.append(Deposited(amount=1), stream_id=stream)
        outcome: list[BaseException | None] = []

        def append_second() -> None:
            try:
                SQLAlchemyBackend(second).event_store.append(Deposited(amount=2), stream_id=stream)
                outcome.append(None)
            except BaseException as error:
                outcome.append(error)

        racer = threading.Thread(target=append_second)
        racer.start()
        racer.join(0.3)
        assert racer.is_alive(), "the second writer should wait for the first one's commit"
        first.commit()
        racer.join(30)
        assert len(outcome) == 1
        assert isinstance(outcome[0], ConcurrentStreamWriteError)
        assert outcome[0].actual_version == 1
        second.rollback()
