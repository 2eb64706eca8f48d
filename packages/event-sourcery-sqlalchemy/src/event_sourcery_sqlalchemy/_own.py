"""What each session's open transaction wrote, for the readers that must not wait for it.

A subscription cursor waits at a gap for every transaction in flight, but not for the
transaction of the session that opened it (`event_sourcery.sql.OwnTransaction` says why). The
backend makes one `OwnWrites` and hands it to its storage, checkpoint and subscription
strategies: the first two note what the session's transaction did (the positions it appended;
its connection's server id, as a projection loads its checkpoint), the third reads it. A cursor
only reads: it may run on another thread than its session's, and never emits SQL through it.

Records are kept per root transaction of a session (a `scoped_session` has one per scope), and
go away with it: once the transaction ends, the session has a new one, with no record yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from weakref import WeakKeyDictionary

from event_sourcery.sql import OwnTransaction
from sqlalchemy.orm import Session, SessionTransaction, scoped_session


def resolve(session: Session | scoped_session[Session]) -> Session:
    """The `Session` itself (that of the current scope, for a `scoped_session`)."""
    return session() if isinstance(session, scoped_session) else session


@dataclass
class _Record:
    session: int = 0
    lowest_position: int | None = None


class OwnWrites:
    """What the open transactions of one backend's sessions appended, and their server ids."""

    def __init__(self) -> None:
        self._records: WeakKeyDictionary[SessionTransaction, _Record] = WeakKeyDictionary()

    def _record(self, session: Session) -> _Record | None:
        transaction = session.get_transaction()
        if transaction is None:
            return None
        record = self._records.get(transaction)
        if record is None:
            record = self._records[transaction] = _Record()
        return record

    def note_positions(self, session: Session, positions: list[int]) -> None:
        """Remember that `session`'s transaction appended `positions`."""
        record = self._record(session)
        if record is not None and positions:
            lowest = min(positions)
            if record.lowest_position is None or lowest < record.lowest_position:
                record.lowest_position = lowest

    def note_session(self, session: Session, server_id: int) -> None:
        """Remember the server's id of the connection of `session`'s transaction."""
        record = self._record(session)
        if record is not None:
            record.session = server_id

    def of(self, session: Session) -> OwnTransaction:
        """What `session`'s open transaction wrote (nothing, if it has none)."""
        transaction = session.get_transaction()
        record = None if transaction is None else self._records.get(transaction)
        if record is None:
            return OwnTransaction()
        return OwnTransaction(record.session, record.lowest_position)
