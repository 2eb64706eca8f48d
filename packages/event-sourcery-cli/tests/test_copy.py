"""``copy`` between two SQLite stores: everything as stored, resumable, and ``--verify``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from uuid import uuid4

from event_sourcery import NO_VERSIONING, Context, Event, StreamId, WrappedEvent
from event_sourcery.interfaces import RawEvent, RecordedRaw
from event_sourcery_cli._copy import Fingerprint, _runs, _write, differences
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from event_sourcery_testing import InMemoryBackend
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from .conftest import Run


class Moved(Event):
    to: str


def _log(url: str) -> list[tuple[object, ...]]:
    """Every event of the store's log as stored, in order (positions left out)."""
    engine = create_engine(url)
    with Session(engine) as session:
        records = list(
            SQLAlchemyBackend(session).subscriber.build_raw_batch(100_000, 0.1).__next__()
        )
    engine.dispose()
    return [(r.tenant_id, r.raw.stream_id.name, r.raw.stream_id.category, r.raw) for r in records]


def _fill(backend: SQLAlchemyBackend, session: Session) -> None:
    named = StreamId(name=f"acc-{uuid4()}", category="account")
    at = datetime(2020, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    backend.event_store.append(
        WrappedEvent.wrap(Moved(to="a"), 1, created_at=at, context=Context(correlation_id=uuid4())),
        Moved(to="b"),
        stream_id=named,
    )
    backend.in_tenant_mode("t1").event_store.append(Moved(to="c"), stream_id=StreamId())
    backend.event_store.append(
        Moved(to="d"), stream_id=named, expected_version=2
    )  # interleaved: the log's order is kept
    backend.event_store.append(
        Moved(to="e"), stream_id=StreamId(category="log"), expected_version=NO_VERSIONING
    )
    session.commit()


def test_copies_everything_as_stored_and_verifies(
    run: Run, url: str, backend: SQLAlchemyBackend, session: Session, make_store: Callable[[], str]
) -> None:
    _fill(backend, session)
    target = make_store()

    result = run("copy", "--from", url, "--to", target, "--verify", url=None)

    assert result.exit_code == 0, result.output
    assert "copied 5 events" in result.stdout
    assert "verified: 5 events in 3 streams, identical" in result.stdout
    assert _log(target) == _log(url)


def test_a_second_run_copies_only_what_is_new(
    run: Run, url: str, backend: SQLAlchemyBackend, session: Session, make_store: Callable[[], str]
) -> None:
    _fill(backend, session)
    target = make_store()
    assert run("copy", "--from", url, "--to", target, "--chunk", "2", url=None).exit_code == 0
    backend.event_store.append(Moved(to="f"), stream_id=StreamId())
    session.commit()

    again = run("copy", "--from", url, "--to", target, "--verify", url=None)

    assert again.exit_code == 0, again.output
    assert "copied 1 events (resumed after position" in again.stdout
    assert _log(target) == _log(url)


def test_verify_exits_1_on_a_difference(
    run: Run, url: str, backend: SQLAlchemyBackend, session: Session, make_store: Callable[[], str]
) -> None:
    _fill(backend, session)
    target = make_store()
    assert run("copy", "--from", url, "--to", target, url=None).exit_code == 0
    engine = create_engine(target)
    with Session(engine) as other:
        SQLAlchemyBackend(other).event_store.append(Moved(to="x"), stream_id=StreamId())
        other.commit()
    engine.dispose()

    result = run("copy", "--from", url, "--to", target, "--verify", url=None)

    assert result.exit_code == 1
    assert "verify: events: 5 in the source, 6 in the target" in result.stderr


def test_piped_progress_is_plain_lines_on_stderr(
    run: Run, url: str, backend: SQLAlchemyBackend, session: Session, make_store: Callable[[], str]
) -> None:
    _fill(backend, session)

    result = run("copy", "--from", url, "--to", make_store(), url=None)

    assert result.stderr.startswith("copying: 5 events, 100%, ")
    assert "events/s, ETA 0:00:00" in result.stderr
    assert "\x1b[" not in result.stderr


def test_runs_cut_at_each_change_of_stream_or_tenant() -> None:
    first, second = StreamId(), StreamId()

    def record(stream: StreamId, version: int | None, tenant: str | None = None) -> RecordedRaw:
        event = RawEvent(uuid4(), stream, "Moved", version, datetime.now(UTC), {"to": "x"})
        return RecordedRaw(event, 1, tenant)

    records = [record(first, 1), record(first, 2), record(second, 1), record(first, 3),
               record(first, 4, "t"), record(first, 6, "t")]  # fmt: skip

    assert [len(run) for run in _runs(records)] == [2, 1, 1, 1, 1]


def test_same_store_twice_is_refused(run: Run, url: str) -> None:
    result = run("copy", "--from", url, "--to", url, url=None)

    assert result.exit_code == 1
    assert "the same store" in result.stderr


def test_store_urls_are_required(run: Run) -> None:
    assert run("copy", "--from", "sqlite:///x.db", url=None).exit_code == 2


def test_verify_names_a_stream_whose_events_differ_and_a_changed_order() -> None:
    one, two = StreamId(category="a"), StreamId(category="b")
    at = datetime(2020, 1, 1, tzinfo=UTC)

    def record(stream: StreamId, data: dict[str, str]) -> RecordedRaw:
        event = RawEvent(uuid4(), stream, "Moved", 1, at, data)
        return RecordedRaw(event, 1, None)

    first, second = record(one, {"to": "x"}), record(two, {"to": "y"})
    source, changed, reordered = Fingerprint(), Fingerprint(), Fingerprint()
    for fingerprint, records in (
        (source, [first, second]),
        (changed, [first, RecordedRaw(second.raw.replace(data={"to": "z"}), 2, None)]),
        (reordered, [second, first]),
    ):
        for item in records:
            fingerprint.add(item)

    assert differences(source, source) == []
    assert differences(source, changed) == [f"stream {two.uuid} (category b, tenant None) differs"]
    assert differences(source, reordered) == ["the global order of the events differs"]


def test_a_re_sent_chunk_skips_the_events_the_target_holds() -> None:
    # What a resumed copy into KurrentDB meets: the chunk's events were stored, its
    # checkpoint was not (no transaction spans both there).
    target = InMemoryBackend()
    stream, log = StreamId(category="c"), StreamId(category="log")
    at = datetime(2020, 1, 1, tzinfo=UTC)
    raws = [RawEvent(uuid4(), stream, "Moved", v, at, {"to": str(v)}) for v in (1, 2, 3)]
    loose = [RawEvent(uuid4(), log, "Moved", None, at, {"to": "l"}) for _ in range(2)]
    target.event_store.append_raw(*raws[:2])
    target.event_store.append_raw(loose[0], expected_version=NO_VERSIONING)

    _write(target, [RecordedRaw(raw, n, None) for n, raw in enumerate([*raws, *loose], 1)])

    assert target.event_store.load_stream_raw(stream) == raws
    assert target.event_store.load_stream_raw(log) == loose
