"""Every SQLAlchemy and driver error reaches users as an Event Sourcery error, chained."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from event_sourcery import NO_VERSIONING, EventStore, StreamId, WrappedEvent
from event_sourcery.exceptions import ConcurrentStreamWriteError, StorageError
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from event_sourcery_sqlalchemy._models import default_models
from sqlalchemy import Engine, create_engine, exc, insert, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from ._events import Deposited

OPERATIONS: dict[str, Callable[[EventStore], Any]] = {
    "append": lambda store: store.append(Deposited(amount=1), stream_id=StreamId()),
    "append versionless": lambda store: store.append(
        Deposited(amount=1), stream_id=StreamId(), expected_version=NO_VERSIONING
    ),
    "append at version": lambda store: store.append(
        Deposited(amount=1), stream_id=StreamId(), expected_version=3
    ),
    "load": lambda store: store.load_stream(StreamId()),
    "load range": lambda store: store.load_stream(StreamId(), 1, 3),
    "snapshot": lambda store: store.save_snapshot(
        StreamId(), WrappedEvent.wrap(Deposited(amount=1), 1)
    ),
    "delete": lambda store: store.delete_stream(StreamId()),
    "position": lambda store: store.position,
}


@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
def test_an_unreachable_database_is_a_storage_error(
    tmp_path: Path, operation: Callable[[EventStore], Any]
) -> None:
    broken = create_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'db.sqlite3'}")
    with Session(broken) as session, pytest.raises(StorageError) as raised:
        operation(SQLAlchemyBackend(session).event_store)
    assert isinstance(raised.value.__cause__, exc.SQLAlchemyError)
    assert "SQLITE_CANTOPEN" in str(raised.value)  # the text ("unable to open ...") is the cause's


@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
def test_missing_tables_say_how_to_create_them(
    tmp_path: Path, operation: Callable[[EventStore], Any]
) -> None:
    empty = create_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    with Session(empty) as session, pytest.raises(StorageError, match="create_all"):
        operation(SQLAlchemyBackend(session).event_store)
    empty.dispose()


def test_a_session_that_needs_a_rollback_is_a_storage_error(file_db: Engine) -> None:
    class Base(DeclarativeBase):
        pass

    class Thing(Base):
        __tablename__ = "thing"
        id: Mapped[int] = mapped_column(primary_key=True)

    Base.metadata.create_all(file_db)
    with Session(file_db) as session:
        session.add_all([Thing(id=1), Thing(id=1)])
        with pytest.raises(exc.SQLAlchemyError):
            session.flush()  # the user's own failure: their session now needs a rollback
        with pytest.raises(StorageError, match=r"session\.rollback\(\)") as raised:
            SQLAlchemyBackend(session).event_store.load_stream(StreamId())
        assert isinstance(raised.value.__cause__, exc.PendingRollbackError)


def test_a_locked_sqlite_database_is_a_storage_error(tmp_path: Path, file_db: Engine) -> None:
    path = file_db.url.database
    assert path is not None
    impatient = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.05})
    blocker = sqlite3.connect(path)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with (
            Session(impatient) as session,
            pytest.raises(StorageError, match="SQLITE_BUSY.*lock timeout"),
        ):
            SQLAlchemyBackend(session).event_store.append(Deposited(amount=1), stream_id=StreamId())
    finally:
        blocker.rollback()
        blocker.close()
        impatient.dispose()


def test_a_unique_violation_on_event_versions_is_a_conflict(
    session: Session, backend: SQLAlchemyBackend
) -> None:
    # The stream row says version 1, but a version-2 event exists (as after a writer that got
    # past the stream row by other means): the events' unique constraint still refuses.
    store = backend.event_store
    stream = StreamId()
    store.append(Deposited(amount=1), stream_id=stream)
    models = default_models()
    row = session.execute(select(models.events).where(models.events.c.version == 1)).first()
    assert row is not None
    stray = {**row._asdict(), "version": 2, "uuid": uuid4()}  # event ids are unique
    del stray["id"]
    session.execute(insert(models.events), [stray])
    with pytest.raises(ConcurrentStreamWriteError) as raised:
        store.append(Deposited(amount=2), stream_id=stream, expected_version=1)
    assert isinstance(raised.value.__cause__, exc.IntegrityError)


@pytest.mark.parametrize("huge", [2**63 - 1, 2**63, 2**70])
def test_versions_beyond_bigint_are_conflicts_not_driver_errors(
    backend: SQLAlchemyBackend, huge: int
) -> None:
    store = backend.event_store
    stream = StreamId()
    with pytest.raises(ConcurrentStreamWriteError, match="does not exist"):
        store.append(Deposited(amount=1), stream_id=stream, expected_version=huge)
    store.append(Deposited(amount=1), stream_id=stream)
    with pytest.raises(ConcurrentStreamWriteError, match="is at version 1"):
        store.append(Deposited(amount=1), stream_id=stream, expected_version=huge)
    assert store.load_stream(stream, start=huge) == []
    assert len(store.load_stream(stream, stop=huge)) == 1
    assert len(store.load_stream(stream, 1, huge)) == 1


def test_errors_keep_the_session_usable_on_sqlite(
    session: Session, backend: SQLAlchemyBackend
) -> None:
    store = backend.event_store
    stream = StreamId(name="usable-after-errors")
    store.append(Deposited(amount=1), stream_id=stream)
    with pytest.raises(ConcurrentStreamWriteError):
        store.append(Deposited(amount=2), stream_id=stream)
    store.append(Deposited(amount=2), stream_id=stream, expected_version=1)
    assert session.execute(text("SELECT 1")).scalar() == 1
    assert len(store.load_stream(stream)) == 2
