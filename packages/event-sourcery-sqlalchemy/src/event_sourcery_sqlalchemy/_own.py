"""What the session's own open transaction wrote, for the readers that must not wait for it.

A subscription cursor waits at a gap for every transaction in flight, but it must not wait for
the transaction of the session that opened it: a projection loads (and locks) its checkpoint in
the session's transaction and then reads the log, so that transaction cannot end before the
read does. Such a cursor leaves the session's own transaction out of its markers, and instead
never passes the lowest position that transaction appended while it is open: those events are
invisible to the cursor's connection until the commit, and must not be skipped.

The record lives in `session.info`, tied to the session's root transaction, so it is stale (and
ignored) once that transaction ends; the database commits before the session lets go of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, scoped_session

_KEY = "event_sourcery_sqlalchemy.own_writes"


@dataclass
class OwnWrites:
    """The session's own transaction, as the database knows it."""

    #: The session's root `SessionTransaction` this record belongs to.
    transaction: Any
    #: How the database names the transaction in a marker: a PostgreSQL xid, a MariaDB
    #: connection id; None if not known (the cursor then waits for it like for any other).
    identity: int | None = None
    #: The lowest position this transaction appended, if it appended.
    lowest_position: int | None = None


def resolve(session: Session | scoped_session[Session]) -> Session:
    """The `Session` itself (that of the current scope, for a `scoped_session`)."""
    return session() if isinstance(session, scoped_session) else session


def _record(session: Session) -> OwnWrites | None:
    transaction = session.get_transaction()
    if transaction is None:
        return None
    record: OwnWrites | None = session.info.get(_KEY)
    if record is None or record.transaction is not transaction:
        record = session.info[_KEY] = OwnWrites(transaction)
    return record


def note_positions(session: Session, positions: list[int]) -> None:
    """Remember that the session's transaction appended `positions`."""
    record = _record(session)
    if record is not None and positions:
        lowest = min(positions)
        if record.lowest_position is None or lowest < record.lowest_position:
            record.lowest_position = lowest


def note_identity(session: Session, identity: int) -> None:
    """Remember how the database names the session's transaction (or connection)."""
    record = _record(session)
    if record is not None:
        record.identity = identity


def current(session: Session) -> OwnWrites | None:
    """The record of the session's open transaction, None if it has none (or it ended)."""
    record: OwnWrites | None = session.info.get(_KEY)
    if record is None or record.transaction is not session.get_transaction():
        return None
    return record


def still_open(session: Session, record: OwnWrites) -> bool:
    """Whether the transaction `record` describes is still the session's open one."""
    return record.transaction is session.get_transaction()
