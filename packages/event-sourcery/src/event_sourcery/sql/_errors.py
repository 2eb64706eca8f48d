"""What a SQL backend's database errors mean for its user, decided once for every SQL backend.

A backend describes its error classes and words its advice (`SQLErrors`); which Event
Sourcery error a database error becomes, and which advice it carries, is decided here. The
driver's own error is read through `_driver_errors` (codes, never quoted text).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from event_sourcery._stream_id import StreamId
from event_sourcery._versioning import NO_VERSIONING, ExpectedVersion
from event_sourcery.exceptions import (
    ConcurrentStreamWriteError,
    DuplicateEventId,
    EventSerializationError,
    EventStoreException,
    StorageError,
)
from event_sourcery.sql._driver_errors import (
    describe_driver_error,
    is_collision,
    is_missing_table,
    violates_event_id_index,
)

# errno of MySQL/MariaDB's "Duplicate entry ... for key ..." (ER_DUP_ENTRY).
_MYSQL_DUPLICATE_KEY = 1062

Classes = type[BaseException] | tuple[type[BaseException], ...]


@dataclass(frozen=True, slots=True)
class SQLErrors:
    """One SQL backend's database error classes, and its advice in its own words.

    Attributes:
        integrity: the class of constraint violations (unique, foreign key).
        data: the classes of values the database refuses.
        statement: the class of errors a statement raised (a missing table is one).
        broken_transaction: the class of "an earlier error broke the transaction".
        driver_error: the driver's own error inside the backend's wrapper, or the error.
        broken_transaction_hint: what to do about a broken transaction.
        retry_hint: what to do after colliding with a concurrent transaction.
        missing_tables_hint: how to create the event store's tables.
    """

    integrity: Classes
    data: Classes
    statement: Classes
    broken_transaction: Classes
    driver_error: Callable[[BaseException], BaseException]
    broken_transaction_hint: str
    retry_hint: str
    missing_tables_hint: str

    def is_duplicate_key(self, error: BaseException) -> bool:
        """Whether an integrity `error` is a uniqueness violation (not a foreign key one)."""
        original = self.driver_error(error)
        args: tuple[Any, ...] = getattr(original, "args", ())
        if args and isinstance(args[0], int):  # MySQL drivers: (errno, message)
            return args[0] == _MYSQL_DUPLICATE_KEY
        text = str(original).lower()
        return "unique" in text or "duplicate" in text

    def translate(
        self,
        error: BaseException,
        action: str,
        *,
        conflict: Callable[[], EventStoreException] | None = None,
        duplicate_id: Callable[[], EventStoreException] | None = None,
        writing_events: bool = False,
    ) -> EventStoreException:
        """The Event Sourcery error to raise (``from error``) for a database `error`.

        Args:
            error: what the backend's database layer or the driver raised.
            action: what the store was doing, for the message ("appending to stream ...").
            conflict: makes the error for a uniqueness/foreign key violation, i.e. a
                concurrent writer won; without it such a violation is a `StorageError`.
            duplicate_id: makes the error for a violation of the events' id index (an event
                id taken in the tenant); checked before `conflict`.
            writing_events: event data was being written, so a value the database refuses
                (PostgreSQL refuses NUL characters in text columns, for instance) is the
                event's problem.
        """
        original = self.driver_error(error)
        if isinstance(error, self.integrity):
            if duplicate_id is not None and violates_event_id_index(str(original)):
                return duplicate_id()
            if conflict is not None:
                return conflict()
        # The class and code only: a database's message may quote the values it refused.
        detail = describe_driver_error(original)
        if writing_events and isinstance(error, self.data):
            return EventSerializationError(
                f"The database refused the event data while {action}: {detail}"
            )
        return StorageError(f"The database failed while {action}: {detail}.{self._hint(error)}")

    def translate_append(
        self, error: BaseException, stream_id: StreamId, expected: ExpectedVersion
    ) -> EventStoreException:
        """`translate` for an append to `stream_id` that expected version `expected`.

        A uniqueness or foreign key violation of a versioned append means a concurrent writer
        (or a concurrent delete) got in first: the constraints back up the claim.
        """
        conflict = None
        if expected is not NO_VERSIONING:

            def conflict() -> EventStoreException:
                return ConcurrentStreamWriteError(stream_id, expected, None)

        return self.translate(
            error,
            f"appending to stream {stream_id!r}",
            conflict=conflict,
            duplicate_id=lambda: DuplicateEventId(stream_id),
            writing_events=True,
        )

    def _hint(self, error: BaseException) -> str:
        if isinstance(error, self.broken_transaction):
            return f" {self.broken_transaction_hint}"
        original = self.driver_error(error)
        if is_collision(original):
            return (
                " Concurrent transactions collided (a deadlock, serialization failure or lock "
                f"timeout): {self.retry_hint}"
            )
        if isinstance(error, self.statement) and is_missing_table(original):
            return f" {self.missing_tables_hint}"
        return ""
