"""The one place where SQLAlchemy's and the drivers' errors become Event Sourcery errors.

Storage methods catch `DATABASE_ERRORS` and raise ``translate(...) from exc``; nothing from
``sqlalchemy.exc`` or a driver reaches a user of the public API.
"""

from __future__ import annotations

from collections.abc import Callable

from event_sourcery.exceptions import (
    EventSerializationError,
    EventStoreException,
    StorageError,
)
from event_sourcery.interfaces import (
    describe_driver_error,
    is_collision,
    is_missing_table,
    violates_event_id_index,
)
from sqlalchemy import exc

#: What a storage method catches around its statements. Some drivers raise UnicodeError (a
#: string they cannot encode) or OverflowError (an int beyond 64 bits) as is, not as DBAPI errors.
DATABASE_ERRORS = (exc.SQLAlchemyError, UnicodeError, OverflowError)

# errno of MySQL/MariaDB's "Duplicate entry ... for key ..." (ER_DUP_ENTRY).
_MYSQL_DUPLICATE_KEY = 1062


def is_duplicate_key(error: exc.IntegrityError) -> bool:
    """Whether `error` is a uniqueness violation (and not, say, a foreign key one)."""
    args = getattr(error.orig, "args", ())
    if args and isinstance(args[0], int):  # MySQL drivers: (errno, message)
        return args[0] == _MYSQL_DUPLICATE_KEY
    return "unique" in str(error.orig).lower() or "duplicate" in str(error.orig).lower()


def _driver_error(error: BaseException) -> BaseException:
    # The driver's own error: SQLAlchemy's wrapper adds the SQL and its parameters.
    return (error.orig or error) if isinstance(error, exc.DBAPIError) else error


def _hint(error: BaseException) -> str:
    if isinstance(error, exc.PendingRollbackError):
        return " Roll the session back (session.rollback()) after the earlier error."
    original = _driver_error(error)
    if is_collision(original):
        return (
            " Concurrent transactions collided (a deadlock, serialization failure or lock "
            "timeout): roll the session back and retry."
        )
    if isinstance(error, exc.DBAPIError) and is_missing_table(original):
        return (
            " Are the event store's tables created? Call configure_models(Base), then "
            "Base.metadata.create_all(engine) or run your alembic migrations."
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
        error: what SQLAlchemy or the driver raised.
        action: what the store was doing, for the message ("appending to stream ...").
        conflict: makes the error for a uniqueness/foreign key violation, i.e. a concurrent
            writer won; without it such a violation is a `StorageError`.
        duplicate_id: makes the error for a violation of the events' id index (an event id
            taken in the tenant); checked before `conflict`.
        writing_events: event data was being written, so a value the database refuses
            (PostgreSQL refuses NUL characters in text columns, for instance) is the event's
            problem.
    """
    if isinstance(error, exc.IntegrityError):
        if duplicate_id is not None and violates_event_id_index(str(error.orig)):
            return duplicate_id()
        if conflict is not None:
            return conflict()
    # The class and code only: a database's message may quote the values it refused.
    detail = describe_driver_error(_driver_error(error))
    if writing_events and isinstance(error, (exc.DataError, UnicodeError)):
        return EventSerializationError(
            f"The database refused the event data while {action}: {detail}"
        )
    return StorageError(f"The database failed while {action}: {detail}.{_hint(error)}")
