"""How the outbox relay and a projector work, with no I/O: shared by the sync and asyncio APIs.

`relay` (one `Outbox.run`) and `project` (one `Projector.run_once`) are generators in the
style of `_log_reading`: they yield steps (claim these entries, hand this event to the user's
callable, save this checkpoint, ...) and receive what the port returned. An exception the
port or the user's callable raised is thrown in at the step that caused it, so the retry and
dead-letter rules, the checkpoint rule, the trace spans and `caused_by` are decided here
once. `run_steps` drives a generator with sync calls, `run_steps_async` with awaits.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Generator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, TypeVar

from event_sourcery._encryption import Encryption
from event_sourcery._outbox import OutboxConfig, OutboxEntry, describe, logger
from event_sourcery._recorded import Recorded, RecordedRaw
from event_sourcery._registry import EventRegistry
from event_sourcery._tracing import Instrumentation, caused_by
from event_sourcery.exceptions import InvalidInput

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Decoding:
    """What turning stored records into the user's `Recorded`s needs."""

    registry: EventRegistry
    encryption: Encryption | None
    instrumentation: Instrumentation

    def handling(self, record: RecordedRaw, span: str) -> tuple[Recorded[Any], ExitStack]:
        """`record` decoded, and the context to hand it on in: its trace span and `caused_by`."""
        recorded = Recorded.of(record, self.registry, self.encryption)
        carrier = (recorded.wrapped_event.context.model_extra or {}).get("trace") or {}
        stack = ExitStack()
        stack.enter_context(self.instrumentation.handling(carrier, span))
        stack.enter_context(caused_by(recorded.wrapped_event))
        return recorded, stack


def positive(value: object, what: str) -> int:
    """`value` if it is a positive int; `InvalidInput` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"{what} must be a positive int, got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class Hand:
    """Call the user's publisher or handler with `recorded`; its exception is thrown in."""

    recorded: Recorded


# The outbox relay's steps: each is one call of the outbox port of the same name.
@dataclass(frozen=True, slots=True)
class Claim:
    """`claim(limit, max_attempts)`; the reply is the claimed entries."""

    limit: int
    max_attempts: int


@dataclass(frozen=True, slots=True)
class Published:
    """`published(entry)`."""

    entry: OutboxEntry


@dataclass(frozen=True, slots=True)
class Failed:
    """`failed(entry, error)`."""

    entry: OutboxEntry
    error: str


@dataclass(frozen=True, slots=True)
class Release:
    """`release(entries)`: claimed, never handed on (the run was interrupted)."""

    entries: Sequence[OutboxEntry]


RelayStep = Claim | Hand | Published | Failed | Release


def relay(limit: int, config: OutboxConfig, decoding: Decoding) -> Generator[RelayStep, Any, int]:
    """One run of the outbox: hand up to `limit` entries on; how many were published.

    A publisher that raises an `Exception` leaves its entry with one more failed attempt
    (after `max_attempts` it is a dead letter); anything else that stops the run (a
    `KeyboardInterrupt`, a cancelled task, a failing port) releases the entries not handed on.
    """
    positive(limit, "limit")
    entries: list[OutboxEntry] = yield Claim(limit, config.max_attempts)
    published = done = 0
    try:
        for entry in entries:
            try:
                recorded, context = decoding.handling(entry.record, "event_sourcery.publish")
                with context:
                    yield Hand(recorded)
            except Exception as exc:
                # The type only: exception texts may carry event data, which stays out of logs.
                logger.warning(
                    "publishing outbox entry %s (position %s) failed: %s",
                    entry.id,
                    entry.record.position,
                    type(exc).__name__,
                )
                yield Failed(entry, describe(config.describe_error, exc))
            else:
                yield Published(entry)
                published += 1
            done += 1
    finally:
        if done < len(entries):
            yield Release(entries[done:])
    return published


# A projector's steps.
@dataclass(frozen=True, slots=True)
class Load:
    """`checkpoints.load(name)`; the reply is the position."""

    name: str


@dataclass(frozen=True, slots=True)
class Open:
    """Open a cursor after `position` on the projector's filter (closed by `Close`)."""

    position: int


@dataclass(frozen=True, slots=True)
class Fetch:
    """`cursor.fetch(limit)`; the reply is ``(records, cursor.position)`` after it."""

    limit: int


@dataclass(frozen=True, slots=True)
class Save:
    """`checkpoints.save(name, position)`."""

    name: str
    position: int


@dataclass(frozen=True, slots=True)
class Close:
    """Close the cursor `Open` opened."""


ProjectStep = Load | Open | Fetch | Hand | Save | Close


def project(name: str, limit: int, decoding: Decoding) -> Generator[ProjectStep, Any, int]:
    """One `run_once` of projection `name`: apply up to `limit` new events; how many.

    The checkpoint moves only after every handler returned, in the same transaction as
    their writes; a handler's exception leaves it where it was (and the caller rolls back).
    """
    positive(limit, "limit")
    position: int = yield Load(name)
    yield Open(position)
    try:
        records: list[RecordedRaw]
        records, after = yield Fetch(limit)
        for record in records:
            recorded, context = decoding.handling(record, f"event_sourcery.project {name}")
            with context:
                yield Hand(recorded)
        if after > position:
            yield Save(name, after)
    finally:
        yield Close()
    return len(records)


async def awaited(result: object) -> object:
    """`result`, awaited if it is an awaitable: what an asyncio driver does with the return
    of a user's callable that may be a coroutine function."""
    return await result if inspect.isawaitable(result) else result


def run_steps(steps: Generator[Any, Any, T], do: Callable[[Any], object]) -> T:
    """Run `steps` to its end, `do(step)` answering each step; its result."""
    try:
        step = next(steps)
        while True:
            try:
                reply = do(step)
            except BaseException as error:  # thrown in: the steps decide what it means
                step = steps.throw(error)
            else:
                step = steps.send(reply)
    except StopIteration as done:
        result: T = done.value
        return result


async def run_steps_async(
    steps: Generator[Any, Any, T], do: Callable[[Any], Awaitable[object]]
) -> T:
    """`run_steps` with each step's answer awaited."""
    try:
        step = next(steps)
        while True:
            try:
                reply = await do(step)
            except BaseException as error:  # thrown in: the steps decide what it means
                step = steps.throw(error)
            else:
                step = steps.send(reply)
    except StopIteration as done:
        result: T = done.value
        return result
