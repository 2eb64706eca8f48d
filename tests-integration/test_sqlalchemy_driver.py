"""PostgreSQL appends run on psycopg's cursor directly (`event_sourcery_sqlalchemy._driver`):
its errors still arrive as the store's own, and a lost connection is replaced after rollback."""

from __future__ import annotations

import pytest
from event_sourcery import Event, StreamId
from event_sourcery.exceptions import ConcurrentStreamWriteError, StorageError
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

pytestmark = pytest.mark.parametrize("database_engine", ["postgresql"], indirect=True)


class Noted(Event):
    __event_name__ = "es_integration.Noted"
    n: int


def test_a_lost_connection_is_a_storage_error_and_the_session_recovers(
    database_engine: Engine,
) -> None:
    with Session(database_engine) as session, database_engine.connect() as admin:
        store = SQLAlchemyBackend(session).event_store
        stream = StreamId(category="lost")
        store.append(Noted(n=1), stream_id=stream)
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.commit()
        with pytest.raises(StorageError):
            store.append(Noted(n=2), stream_id=stream)
        session.rollback()
        store.append(Noted(n=3), stream_id=stream)
        session.commit()
        assert [e.event.n for e in store.load_stream(stream)] == [3]


def test_a_conflict_found_by_the_driver_is_the_stores_error(database_engine: Engine) -> None:
    stream = StreamId(category="driver-conflict")
    with Session(database_engine) as first, Session(database_engine) as second:
        SQLAlchemyBackend(first).event_store.append(
            Noted(n=1), stream_id=stream, expected_version=0
        )
        first.commit()
        with pytest.raises(ConcurrentStreamWriteError):
            SQLAlchemyBackend(second).event_store.append(
                Noted(n=2), stream_id=stream, expected_version=0
            )
        second.rollback()
        assert len(SQLAlchemyBackend(second).event_store.load_stream(stream)) == 1
