"""The one place where Django's database errors become Event Sourcery errors.

Storage methods catch `DATABASE_ERRORS` and raise ``translate(...) from exc``; nothing from
``django.db`` or a driver reaches a user of the public API.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import DatabaseError, DataError, IntegrityError
from django.db.transaction import TransactionManagementError
from event_sourcery.exceptions import EventSerializationError, EventStoreException, StorageError
from event_sourcery.interfaces import (
    describe_driver_error,
    is_collision,
    is_missing_table,
    violates_event_id_index,
)

#: What a storage method catches around its statements. Some drivers raise UnicodeError (a
#: string they cannot encode) or OverflowError (an int beyond 64 bits) as is.
DATABASE_ERRORS = (DatabaseError, UnicodeError, OverflowError)

# errno of MySQL/MariaDB's "Duplicate entry ... for key ..." (ER_DUP_ENTRY).
_MYSQL_DUPLICATE_KEY = 1062


def is_duplicate_key(error: IntegrityError) -> bool:
    """Whether `error` is a uniqueness violation (and not, say, a foreign key one)."""
    cause = error.__cause__
    args = getattr(cause, "args", ())
    if args and isinstance(args[0], int):  # MySQL drivers: (errno, message)
        return args[0] == _MYSQL_DUPLICATE_KEY
    text = str(cause or error).lower()
    return "unique" in text or "duplicate" in text


def _driver_error(error: BaseException) -> BaseException:
    # Django's DatabaseError wraps the driver's, which carries the codes.
    return error.__cause__ or error if isinstance(error, DatabaseError) else error


def _hint(error: BaseException) -> str:
    if isinstance(error, TransactionManagementError):
        return (
            " An earlier error broke the current transaction: leave the atomic block (or roll"
            " back) before using the event store again."
        )
    original = _driver_error(error)
    if is_collision(original):
        return (
            " Concurrent transactions collided (a deadlock, serialization failure or lock "
            "timeout): roll back and retry."
        )
    if isinstance(error, DatabaseError) and is_missing_table(original):
        return (
            ' Are the event store\'s tables created? Add "event_sourcery_django" to '
            "INSTALLED_APPS and run `manage.py migrate` (on every database alias you use)."
        )
    return ""


def translate(
    error: BaseException,
    action: str,
    *,
    conflict: Callable[[], EventStoreException] | None = None,
    duplicate_id: Callable[[], EventStoreException] | None = None,
    writing_events: bool = False,
) -> EventStoreException:
    """The Event Sourcery error to raise (``from error``) for a database `error`.

    Args:
        error: what Django or the driver raised.
        action: what the store was doing, for the message ("appending to stream ...").
        conflict: makes the error for a uniqueness/foreign key violation, i.e. a concurrent
            writer won; without it such a violation is a `StorageError`.
        duplicate_id: makes the error for a violation of the events' id index (an event id
            taken in the tenant); checked before `conflict`.
        writing_events: event data was being written, so a value the database refuses is the
            event's problem.
    """
    if isinstance(error, IntegrityError):
        if duplicate_id is not None and violates_event_id_index(str(error.__cause__ or error)):
            return duplicate_id()
        if conflict is not None:
            return conflict()
    # The class and code only: a database's message may quote the values it refused.
    detail = describe_driver_error(_driver_error(error))
    if writing_events and isinstance(error, DataError | UnicodeError):
        return EventSerializationError(
            f"The database refused the event data while {action}: {detail}"
        )
    return StorageError(f"The database failed while {action}: {detail}.{_hint(error)}")
