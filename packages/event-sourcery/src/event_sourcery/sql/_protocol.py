"""How the SQL protocol talks to a driver: statements out, outcomes in, no I/O here.

What the store decides (an append's claim, a gap-aware read of the log, ...) is written once,
as a generator that yields what it wants done and receives what came of it, in the style of
the sans-I/O protocols (h11): a `Statement` to execute, or a `Pause` to wait. A *driver* (the
SQLAlchemy session, Django's connection, their asyncio twins) executes each on its own
connection and sends back an `Outcome`; an error the database raised is thrown into the
generator, which may catch it (a duplicate key it expected) or let it out unchanged.

`drive` and `drive_async` are the whole loop, for every driver: a driver supplies `run`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Statement:
    """One SQL statement to execute in the caller's transaction.

    `sql` has ``%s`` placeholders (literal percent signs doubled), the style of psycopg,
    PyMySQL and Django's cursors; a driver whose DB-API module takes ``?`` converts it once
    with `qmark`.
    """

    sql: str
    params: Sequence[Any] = ()


@dataclass(frozen=True, slots=True)
class Pause:
    """Wait `seconds` (a sync driver sleeps, an asyncio driver awaits) and send back None."""

    seconds: float


class Outcome(NamedTuple):
    """What executing a `Statement` gave: its rows (if it returns any), its row count and the
    last inserted row id (MariaDB's and SQLite's ``cursor.lastrowid``; None where unknown)."""

    rows: list[Sequence[Any]]
    rowcount: int
    lastrowid: int | None


#: What a protocol generator yields.
Step = Statement | Pause
#: A protocol: yields steps, receives outcomes (None after a `Pause`), returns its result.
Protocol = Generator[Step, Any, T]


def qmark(sql: str) -> str:
    """`sql` with ``?`` placeholders instead of ``%s`` (and single percent signs)."""
    return sql.replace("%s", "?").replace("%%", "%")


def drive(protocol: Protocol[T], run: Callable[[Statement], Outcome]) -> T:
    """Run `protocol` to its end with `run` executing each statement; its result.

    An exception `run` raises is thrown into the protocol at the statement that caused it.
    """
    try:
        step = next(protocol)
        while True:
            if isinstance(step, Pause):
                time.sleep(step.seconds)
                step = protocol.send(None)
                continue
            try:
                outcome = run(step)
            except Exception as error:
                step = protocol.throw(error)
            else:
                step = protocol.send(outcome)
    except StopIteration as done:
        result: T = done.value
        return result


async def drive_async(protocol: Protocol[T], run: Callable[[Statement], Awaitable[Outcome]]) -> T:
    """`drive` for an asyncio driver: the same protocol, each statement awaited."""
    try:
        step = next(protocol)
        while True:
            if isinstance(step, Pause):
                await asyncio.sleep(step.seconds)
                step = protocol.send(None)
                continue
            try:
                outcome = await run(step)
            except Exception as error:
                step = protocol.throw(error)
            else:
                step = protocol.send(outcome)
    except StopIteration as done:
        result: T = done.value
        return result
