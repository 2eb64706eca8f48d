"""The outbox relay's and a projector's rules, as steps: no backend, no I/O."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from event_sourcery import Event, EventRegistry, StreamId
from event_sourcery._reacting import (
    Claim,
    Close,
    Decoding,
    Failed,
    Fetch,
    Hand,
    Load,
    Open,
    Release,
    Save,
    project,
    relay,
    run_steps,
    run_steps_async,
)
from event_sourcery._tracing import NO_INSTRUMENTATION, ambient_context
from event_sourcery.exceptions import InvalidInput
from event_sourcery.interfaces import OutboxConfig, OutboxEntry, RawEvent, RecordedRaw


class Paid(Event):
    __event_name__ = "reacting_test.Paid"
    amount: int


REGISTRY = EventRegistry()
REGISTRY.add(Paid)
DECODING = Decoding(REGISTRY, None, NO_INSTRUMENTATION)


class Boom(Exception):
    """Raised on purpose."""


class _Stop(BaseException):
    """Raised on purpose: not an `Exception`."""


def _record(position: int, amount: int = 1, kind: str = "reacting_test.Paid") -> RecordedRaw:
    raw = RawEvent(
        uuid=uuid4(),
        stream_id=StreamId(category="pay"),
        type=kind,
        version=position,
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
        data=f'{{"amount": {amount}}}',
        context="{}",
        schema_version=1,
    )
    return RecordedRaw(raw, position, None)


def _entries(*amounts: int) -> list[OutboxEntry]:
    return [OutboxEntry(n, _record(n, a), 0, None) for n, a in enumerate(amounts, 1)]


class _Script:
    """Answers steps from a claim or a log, noting each; `hand` decides what the user does."""

    def __init__(self, entries: list[OutboxEntry], hand: Any = None) -> None:
        self.entries, self.hand = entries, hand or (lambda recorded: None)
        self.steps: list[Any] = []

    def __call__(self, step: Any) -> Any:
        self.steps.append(step)
        if isinstance(step, Claim):
            return self.entries[: step.limit]
        if isinstance(step, Load):
            return 2
        if isinstance(step, Fetch):
            return [e.record for e in self.entries], (self.entries[-1].id if self.entries else 2)
        if isinstance(step, Hand):
            self.hand(step.recorded)
        return None

    def kinds(self) -> list[str]:
        return [type(step).__name__ for step in self.steps]


def test_each_published_entry_is_removed() -> None:
    script = _Script(_entries(1, 2))
    assert run_steps(relay(10, OutboxConfig(max_attempts=3), DECODING), script) == 2
    assert script.kinds() == ["Claim", "Hand", "Published", "Hand", "Published"]
    assert script.steps[0] == Claim(10, 3)


def test_a_failed_publication_keeps_the_type_only_and_goes_on() -> None:
    def fail_first(recorded: Any) -> None:
        if recorded.wrapped_event.event.amount == 1:
            raise Boom("card 4111 refused")

    script = _Script(_entries(1, 2), fail_first)
    assert run_steps(relay(10, OutboxConfig(), DECODING), script) == 1
    failed = script.steps[2]
    assert isinstance(failed, Failed)
    assert failed.error == f"{__name__}.Boom"
    assert script.kinds()[3:] == ["Hand", "Published"]


def test_an_undecodable_entry_is_a_failure_not_a_crash() -> None:
    unknown = _record(1, kind="reacting_test.Gone")
    script = _Script([OutboxEntry(1, unknown, 0, None)])
    assert run_steps(relay(10, OutboxConfig(), DECODING), script) == 0
    assert script.kinds() == ["Claim", "Failed"]
    assert script.steps[1].error == "event_sourcery.exceptions.UnknownEventType"


def test_an_interruption_releases_what_was_not_handed_on_and_goes_out() -> None:
    def stop_at_two(recorded: Any) -> None:
        if recorded.wrapped_event.event.amount == 2:
            raise _Stop

    entries = _entries(1, 2, 3)
    script = _Script(entries, stop_at_two)
    with pytest.raises(_Stop):
        run_steps(relay(10, OutboxConfig(), DECODING), script)
    assert script.kinds() == ["Claim", "Hand", "Published", "Hand", "Release"]
    assert script.steps[-1] == Release(entries[1:])


def test_the_publisher_runs_caused_by_the_event() -> None:
    seen: list[Any] = []
    script = _Script(_entries(1), lambda recorded: seen.append(ambient_context()))
    run_steps(relay(10, OutboxConfig(), DECODING), script)
    assert seen[0] is not None
    assert ambient_context() is None


def test_a_bad_limit_is_refused_before_any_step() -> None:
    script = _Script(_entries(1))
    with pytest.raises(InvalidInput):
        run_steps(relay(0, OutboxConfig(), DECODING), script)
    with pytest.raises(InvalidInput):
        run_steps(project("p", True, DECODING), script)
    assert script.steps == []


def test_a_projection_saves_its_checkpoint_after_every_handler_then_closes() -> None:
    script = _Script([OutboxEntry(n, _record(n), 0, None) for n in (3, 4)])
    assert run_steps(project("p", 10, DECODING), script) == 2
    assert script.kinds() == ["Load", "Open", "Fetch", "Hand", "Hand", "Save", "Close"]
    assert script.steps[1] == Open(2)
    assert script.steps[-2] == Save("p", 4)


def test_a_projection_with_nothing_new_saves_nothing() -> None:
    script = _Script([])
    assert run_steps(project("p", 10, DECODING), script) == 0
    assert script.kinds() == ["Load", "Open", "Fetch", "Close"]


def test_a_failing_handler_saves_nothing_closes_and_goes_out() -> None:
    def explode(recorded: Any) -> None:
        raise Boom

    script = _Script(_entries(1, 2), explode)
    with pytest.raises(Boom):
        run_steps(project("p", 10, DECODING), script)
    assert script.kinds() == ["Load", "Open", "Fetch", "Hand", "Close"]
    assert Close() in script.steps


def test_the_async_driver_takes_the_same_steps() -> None:
    script = _Script(_entries(1, 2))

    async def answer(step: Any) -> Any:
        await asyncio.sleep(0)
        return script(step)

    assert asyncio.run(run_steps_async(relay(10, OutboxConfig(), DECODING), answer)) == 2
    assert script.kinds() == ["Claim", "Hand", "Published", "Hand", "Published"]


def test_handed_events_see_their_cause_in_the_async_driver_too() -> None:
    seen: list[Any] = []
    script = _Script(_entries(1), lambda recorded: seen.append(ambient_context()))

    async def answer(step: Any) -> Any:
        return script(step)

    asyncio.run(run_steps_async(relay(10, OutboxConfig(), DECODING), answer))
    assert seen[0] is not None
