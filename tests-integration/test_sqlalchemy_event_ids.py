"""A taken event id refuses the append, and its claim of the stream row is taken back.

PostgreSQL aborts the transaction on the unique violation, so nothing of the append can be
committed there. SQLite and MariaDB roll back only the failed INSERT: the store itself must
undo the stream row's claim, or a caller who commits anyway would store a stream at a
version without its events (or a stream with no events at all).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from event_sourcery import NO_VERSIONING, DuplicateEventId, Event, StreamId, WrappedEvent
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from sqlalchemy import Engine
from sqlalchemy.orm import Session

pytestmark = pytest.mark.parametrize(
    "database_engine", ["sqlite_file", "sqlite_memory", "mariadb"], indirect=True
)


class Noted(Event):
    __event_name__ = "es_integration.event_ids.Noted"
    number: int


@pytest.fixture
def session(database_engine: Engine) -> Iterator[Session]:
    with Session(database_engine) as session:
        yield session
        session.rollback()


def _state(backend: SQLAlchemyBackend, *streams: StreamId) -> list[Any]:
    return [
        [
            (raw.uuid, raw.version, raw.stream_id.name)
            for raw in backend.event_store.load_stream_raw(s)
        ]
        for s in streams
    ]


@pytest.mark.parametrize(
    "case", ["new stream", "versioned", "versionless", "binds a name", "creates versionless"]
)
def test_a_refused_append_leaves_nothing_even_when_committed(session: Session, case: str) -> None:
    backend = SQLAlchemyBackend(session)
    store, taken = backend.event_store, WrappedEvent.wrap(Noted(number=0))
    store.append(taken, stream_id=StreamId(category=f"ids-{uuid4().hex}"))
    target = StreamId(category=f"ids-{uuid4().hex}")
    expected: Any = 0
    if case in ("versioned", "binds a name"):
        store.append(Noted(number=1), stream_id=target)
        expected = 1
    elif case == "versionless":
        store.append(Noted(number=1), stream_id=target, expected_version=NO_VERSIONING)
        expected = NO_VERSIONING
    elif case == "creates versionless":
        expected = NO_VERSIONING
    session.commit()
    before = _state(backend, target)
    resend = target
    if case == "binds a name":
        resend = StreamId(target.uuid, name=f"n-{uuid4().hex}", category=target.category)
    with pytest.raises(DuplicateEventId):
        store.append(Noted(number=2), taken, stream_id=resend, expected_version=expected)
    session.commit()  # against the advice (roll back): still nothing of the append is stored
    assert _state(backend, target) == before
    # and the stream takes the next append as if the refused one never happened
    if expected == 0:
        store.append(Noted(number=3), stream_id=target)
    else:
        store.append(Noted(number=3), stream_id=resend, expected_version=expected)
    session.commit()
    assert len(_state(backend, target)[0]) == len(before[0]) + 1
