"""The session is the user's: we execute in it, never commit, never fill it up."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from event_sourcery import NO_VERSIONING, BackendConfig, StreamId, WrappedEvent
from event_sourcery.exceptions import InvalidInput
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from event_sourcery_sqlalchemy._models import default_models
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker

from ._events import Deposited, Note


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    """The SQL statements `session`'s SQLite connection runs inside the block.

    Traced by sqlite3 itself, so statements run on the DB-API cursor (which SQLAlchemy's
    cursor events do not see) are counted too; transaction control is left out.
    """
    seen: list[str] = []
    control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")

    def record(statement: str) -> None:
        if not statement.lstrip().upper().startswith(control):
            seen.append(statement)

    driver = session.connection().connection.dbapi_connection
    assert driver is not None
    driver.set_trace_callback(record)
    try:
        yield seen
    finally:
        driver.set_trace_callback(None)


def test_the_seed_lines_run_verbatim(tmp_path: Any) -> None:
    from event_sourcery import NO_VERSIONING, Event, StreamId  # noqa: F401
    from event_sourcery_sqlalchemy import SQLAlchemyBackend, configure_models
    from sqlalchemy.orm import DeclarativeBase

    class Base(DeclarativeBase):
        pass

    class Deposited(Event):
        __event_name__ = "es_sqlalchemy_tests.seed.Deposited"
        amount: int

    engine = create_engine(f"sqlite:///{tmp_path / 'seed.sqlite3'}")
    account = StreamId()

    # fmt: off
    configure_models(Base)           # Base: user's declarative base; idempotent
    Base.metadata.create_all(engine) # or alembic upgrade
    session = Session(engine)
    backend = SQLAlchemyBackend(session)            # optional keyword config: registry=..., models=...  # noqa: E501
    store = backend.event_store
    store.append(Deposited(amount=10), stream_id=account)
    loaded = store.load_stream(account)
    session.commit()   # the library only flushes/executes; NEVER commits or rolls back the user's session  # noqa: E501
    # fmt: on

    assert [w.event for w in loaded] == [Deposited(amount=10)]
    session.close()
    with Session(engine) as other:
        assert len(SQLAlchemyBackend(other).event_store.load_stream(account)) == 1
    engine.dispose()


def test_rollback_discards_our_writes(session: Session, backend: SQLAlchemyBackend) -> None:
    store = backend.event_store
    kept, dropped = StreamId(), StreamId()
    store.append(Deposited(amount=1), stream_id=kept)
    session.commit()
    store.append(Deposited(amount=2), stream_id=kept, expected_version=1)
    store.append(Deposited(amount=3), stream_id=dropped)
    store.save_snapshot(kept, WrappedEvent.wrap(Deposited(amount=3), 2))
    session.rollback()
    assert [w.event.amount for w in store.load_stream(kept)] == [1]
    assert store.load_stream(dropped) == []


def test_the_library_never_commits_nor_rolls_back(file_db: Engine) -> None:
    ends: list[str] = []
    event.listen(file_db, "commit", lambda conn: ends.append("commit"))
    event.listen(file_db, "rollback", lambda conn: ends.append("rollback"))
    stream = StreamId(name="never-committed")
    with Session(file_db) as session:
        store = SQLAlchemyBackend(session).event_store
        store.append(Deposited(amount=1), stream_id=stream)
        store.append(Deposited(amount=2), stream_id=stream, expected_version=1)
        store.save_snapshot(stream, WrappedEvent.wrap(Deposited(amount=3), 2))
        store.load_stream(stream)
        assert store.position > 0
        with pytest.raises(Exception, match="version 1 was expected"):
            store.append(Deposited(amount=2), stream_id=stream, expected_version=1)
        store.delete_stream(StreamId())
        assert ends == []
        assert session.in_transaction()
        with Session(file_db) as reader:  # another connection sees nothing uncommitted
            assert SQLAlchemyBackend(reader).event_store.load_stream(stream) == []
        session.rollback()
    with Session(file_db) as session:
        assert SQLAlchemyBackend(session).event_store.load_stream(stream) == []


def test_appends_run_two_statements_and_loads_one(session: Session) -> None:
    # Performance invariant: an append is one claim of the stream row plus ONE multi-row
    # INSERT of its events, however many events; a load is one query.
    store = SQLAlchemyBackend(session).event_store
    versioned, versionless = StreamId(name="counted"), StreamId()
    cases = [
        (2, lambda: store.append(Deposited(amount=1), stream_id=versioned)),
        (
            2,
            lambda: store.append(
                *(Deposited(amount=i) for i in range(50)), stream_id=versioned, expected_version=1
            ),
        ),
        # A new versionless stream: look it up, create it, insert the events.
        (
            3,
            lambda: store.append(
                Note(text="a"), stream_id=versionless, expected_version=NO_VERSIONING
            ),
        ),
        (
            2,
            lambda: store.append(
                Note(text="b"), stream_id=versionless, expected_version=NO_VERSIONING
            ),
        ),
    ]
    for count, append in cases:
        with statements(session) as seen:
            append()
        assert len(seen) == count, seen
    with statements(session) as seen:
        assert len(store.load_stream(versioned)) == 51
    assert len(seen) == 1


def test_a_long_lived_session_stays_empty(session: Session, backend: SQLAlchemyBackend) -> None:
    store = backend.event_store
    for _ in range(20):
        stream = StreamId()
        store.append(Deposited(amount=1), stream_id=stream)
        store.append(Deposited(amount=2), stream_id=stream, expected_version=1)
        store.load_stream(stream)
    assert len(session.identity_map) == 0
    assert not session.new
    assert not session.dirty


def test_making_a_backend_and_its_event_store_does_no_io() -> None:
    # Its cost is measured by the benchmark harness (workload C), not asserted here.
    broken = create_engine("sqlite:////nonexistent-dir/never/opened.sqlite3")
    session = Session(broken)
    backend = SQLAlchemyBackend(session)
    _ = backend.event_store, backend.in_tenant_mode("t").event_store
    assert not session.in_transaction()


def test_rows_store_the_default_tenant_and_no_category_as_empty_strings(
    session: Session, backend: SQLAlchemyBackend
) -> None:
    stream = StreamId()
    backend.event_store.append(Deposited(amount=1), stream_id=stream)
    backend.in_tenant_mode("acme").event_store.append(
        Deposited(amount=1), stream_id=StreamId.of(stream, category="c")
    )
    streams = default_models().streams
    rows = session.execute(
        select(streams.c.tenant_id, streams.c.category).where(streams.c.uuid == stream.uuid)
    ).all()
    assert sorted(tuple(row) for row in rows) == [("", ""), ("acme", "c")]


@pytest.mark.parametrize(
    "offset", [timedelta(0), timedelta(hours=5, minutes=30), timedelta(hours=-8)]
)
def test_created_at_keeps_microseconds_and_comes_back_as_utc(
    backend: SQLAlchemyBackend, offset: timedelta
) -> None:
    moment = datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=timezone(offset))
    stream = StreamId()
    backend.event_store.append(
        WrappedEvent.wrap(Note(text="t"), created_at=moment), stream_id=stream
    )
    (loaded,) = backend.event_store.load_stream(stream)
    assert loaded.created_at == moment
    assert loaded.created_at.utcoffset() == timedelta(0)
    assert loaded.created_at.tzinfo is UTC


@pytest.mark.parametrize(
    "text", ["nul \x00 inside", "lone \ud800 surrogate", "emoji \U0001f600", ""]
)
def test_any_string_round_trips(backend: SQLAlchemyBackend, text: str) -> None:
    stream = StreamId()
    backend.event_store.append(Note(text=text), stream_id=stream)
    assert [w.event.text for w in backend.event_store.load_stream(stream)] == [text]


def test_a_shared_config_applies_to_every_sessions_backend(engine: Engine) -> None:
    seen: list[object] = []
    config = BackendConfig()
    config.listeners.register(lambda record: seen.append(record.wrapped_event.event), to=Note)
    with Session(engine) as first, Session(engine) as second:
        SQLAlchemyBackend(first, config=config).event_store.append(
            Note(text="one"), stream_id=StreamId()
        )
        SQLAlchemyBackend(second, config=config).event_store.append(
            Note(text="two"), stream_id=StreamId()
        )
    assert seen == [Note(text="one"), Note(text="two")]


def test_an_engine_or_connection_instead_of_a_session_is_refused_at_construction(
    engine: Engine,
) -> None:
    # Both used to fail only on first use, with "'Engine' object has no attribute 'connection'".
    with pytest.raises(InvalidInput, match=r"needs a sqlalchemy.orm.Session.*Engine.*Session\("):
        SQLAlchemyBackend(engine)  # type: ignore[arg-type]
    with engine.connect() as connection, pytest.raises(InvalidInput, match="got Connection"):
        SQLAlchemyBackend(connection)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="got str"):
        SQLAlchemyBackend("sqlite://")  # type: ignore[arg-type]
    with Session(engine) as session, pytest.raises(InvalidInput, match="configure_models"):
        SQLAlchemyBackend(session, models=_Base.metadata)  # type: ignore[arg-type]
    assert SQLAlchemyBackend(scoped_session(sessionmaker(engine))).session is not None


class _Base(DeclarativeBase):
    pass
