"""What goes in comes out, byte for byte, on every database: strings, numbers, timestamps,
identifiers that differ only in case or accents; and out-of-range versions are conflicts,
never driver errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from event_sourcery import Event, StreamId, WrappedEvent
from event_sourcery.exceptions import ConcurrentStreamWriteError
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from sqlalchemy import Engine
from sqlalchemy.orm import Session

pytestmark = pytest.mark.parametrize(
    "database_engine", ["sqlite_file", "sqlite_memory", "postgresql", "mariadb"], indirect=True
)


class Payload(Event):
    __event_name__ = "es_integration.Payload"
    text: str = ""
    number: float = 0.0
    big: int = 0
    items: list[object] = []


@pytest.fixture
def backend(database_engine: Engine) -> Iterator[SQLAlchemyBackend]:
    with Session(database_engine) as session:
        yield SQLAlchemyBackend(session)
        session.rollback()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "nul \x00 inside",
        "lone \ud800 surrogate",
        "emoji \U0001f600 and \u00e9\u0301",
        "\u05e9\u05dc\u05d5\u05dd rtl",
        "quote ' double \" backslash \\ percent % colon :x",
        "x" * 20_000,
    ],
    ids=["empty", "nul", "surrogate", "emoji", "rtl", "quoting", "long"],
)
def test_strings_round_trip(backend: SQLAlchemyBackend, text: str) -> None:
    stream = StreamId()
    backend.event_store.append(Payload(text=text, items=[text, {"k": text}]), stream_id=stream)
    (loaded,) = backend.event_store.load_stream(stream)
    assert loaded.event == Payload(text=text, items=[text, {"k": text}])


def test_numbers_round_trip(backend: SQLAlchemyBackend) -> None:
    values = [
        Payload(number=0.1, big=2**80),
        Payload(number=-0.0, big=-(2**63)),
        Payload(number=1e300, big=0),
        Payload(number=5e-324, big=2**53 + 1),
    ]
    stream = StreamId()
    backend.event_store.append(*values, stream_id=stream)
    assert [w.event for w in backend.event_store.load_stream(stream)] == values


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(hours=14), timedelta(hours=-9.5)])
def test_created_at_keeps_microseconds_and_is_utc(
    backend: SQLAlchemyBackend, offset: timedelta
) -> None:
    moment = datetime(2001, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone(offset))
    stream = StreamId()
    backend.event_store.append(WrappedEvent.wrap(Payload(), created_at=moment), stream_id=stream)
    backend.event_store.save_snapshot(stream, WrappedEvent.wrap(Payload(), 1, created_at=moment))
    backend.event_store.append(
        WrappedEvent.wrap(Payload(), created_at=moment), stream_id=stream, expected_version=1
    )
    for loaded in backend.event_store.load_stream(stream) + backend.event_store.load_stream(
        stream, 1
    ):
        assert loaded.created_at == moment
        assert loaded.created_at.tzinfo is UTC


def test_identifiers_differing_in_case_or_accents_are_different(
    backend: SQLAlchemyBackend,
) -> None:
    base = f"Acct-{StreamId().hex[:8]}"
    spellings = [base, base.lower(), base.upper(), base.replace("A", "\u00c1")]
    store = backend.event_store
    for index, name in enumerate(spellings):
        store.append(Payload(big=index), stream_id=StreamId(name=name, category=name))
        backend.in_tenant_mode(name).event_store.append(
            Payload(big=index), stream_id=StreamId(name="same", category="same")
        )
    for index, name in enumerate(spellings):
        loaded = store.load_stream(StreamId(name=name, category=name))
        assert [w.event.big for w in loaded] == [index]
        in_tenant = backend.in_tenant_mode(name).event_store.load_stream(
            StreamId(name="same", category="same")
        )
        assert [w.event.big for w in in_tenant] == [index]


@pytest.mark.parametrize("huge", [2**63 - 1, 2**63, 2**70])
def test_versions_beyond_bigint_are_conflicts(backend: SQLAlchemyBackend, huge: int) -> None:
    store = backend.event_store
    stream = StreamId()
    with pytest.raises(ConcurrentStreamWriteError, match="does not exist"):
        store.append(Payload(), stream_id=stream, expected_version=huge)
    store.append(Payload(), stream_id=stream)
    with pytest.raises(ConcurrentStreamWriteError, match="is at version 1"):
        store.append(Payload(), stream_id=stream, expected_version=huge)
    assert store.load_stream(stream, start=huge) == []
    assert len(store.load_stream(stream, stop=huge)) == 1


class Versioned(Event):
    __event_name__ = "es_integration.Versioned"
    __schema_version__ = 3
    n: int


def test_schema_versions_are_stored_with_events_and_snapshots(backend: SQLAlchemyBackend) -> None:
    store = backend.event_store
    stream = StreamId()
    store.append(Versioned(n=1), Payload(), stream_id=stream)
    assert [raw.schema_version for raw in store.load_stream_raw(stream)] == [3, 1]
    store.save_snapshot(stream, WrappedEvent.wrap(Versioned(n=2), 2))
    store.append(Payload(), stream_id=stream, expected_version=2)
    assert [raw.schema_version for raw in store.load_stream_raw(stream)] == [3, 1]
