"""Performance invariants, as statement counts: an append never reads the stream's events and
runs one statement on PostgreSQL, two elsewhere, however many events it appends; a load is one
query. A change here is a performance regression, whatever the timings say."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from event_sourcery import NO_VERSIONING, Event, StreamId, WrappedEvent
from event_sourcery_sqlalchemy import SQLAlchemyBackend, _driver
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

pytestmark = pytest.mark.parametrize(
    "database_engine", ["sqlite_file", "sqlite_memory", "postgresql", "mariadb"], indirect=True
)


class Counted(Event):
    __event_name__ = "es_integration.Counted"
    n: int


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The statements run meanwhile: through SQLAlchemy, and on the driver's cursor directly
    (`_driver.execute`: appends and loads, which SQLAlchemy's events do not see)."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    run_on_driver = _driver.execute

    def counted(connection: Any, sql: str, arguments: Any) -> Any:
        seen.append(sql)
        return run_on_driver(connection, sql, arguments)

    event.listen(engine, "before_cursor_execute", record)
    _driver.execute = counted
    try:
        yield seen
    finally:
        _driver.execute = run_on_driver
        event.remove(engine, "before_cursor_execute", record)


def _count(engine: Engine, action: Callable[[], Any]) -> int:
    with statements(engine) as seen:
        action()
    return len(seen)


def test_statements_per_append_and_load(database_engine: Engine) -> None:
    claim_and_insert = 1 if database_engine.dialect.name == "postgresql" else 2
    with Session(database_engine) as session:
        store = SQLAlchemyBackend(session).event_store
        named, versionless = StreamId(name=f"counted-{StreamId()}"), StreamId()
        store.append(*(Counted(n=n) for n in range(4)), stream_id=named)
        store.append(Counted(n=0), stream_id=versionless, expected_version=NO_VERSIONING)
        hundred = [Counted(n=n) for n in range(100)]

        def append_many() -> None:
            store.append(*hundred, stream_id=named, expected_version=4)

        def append_one() -> None:
            store.append(Counted(n=1), stream_id=named, expected_version=104)

        def append_versionless() -> None:
            store.append(*hundred, stream_id=versionless, expected_version=NO_VERSIONING)

        for append in (append_many, append_one, append_versionless):
            assert _count(database_engine, append) == claim_and_insert, append.__name__

        store.save_snapshot(named, WrappedEvent.wrap(Counted(n=-1), 105))
        assert _count(database_engine, lambda: store.load_stream(named)) == 1
        assert _count(database_engine, lambda: store.load_stream(named, 2, 50)) == 1
        session.rollback()
