"""The one place where SQLAlchemy's and the drivers' errors become Event Sourcery errors.

Storage methods catch `DATABASE_ERRORS` and raise ``translate(...) from exc``; nothing from
``sqlalchemy.exc`` or a driver reaches a user of the public API. What an error means is
decided in the core (`SQLErrors`); this module names SQLAlchemy's classes and its advice.
"""

from __future__ import annotations

from event_sourcery.sql import (
    SQLErrors,
)
from sqlalchemy import exc

#: What a storage method catches around its statements. Some drivers raise UnicodeError (a
#: string they cannot encode) or OverflowError (an int beyond 64 bits) as is, not as DBAPI errors.
DATABASE_ERRORS = (exc.SQLAlchemyError, UnicodeError, OverflowError)


def _driver_error(error: BaseException) -> BaseException:
    # The driver's own error: SQLAlchemy's wrapper adds the SQL and its parameters.
    return (error.orig or error) if isinstance(error, exc.DBAPIError) else error


ERRORS = SQLErrors(
    integrity=exc.IntegrityError,
    data=(exc.DataError, UnicodeError),
    statement=exc.DBAPIError,
    broken_transaction=exc.PendingRollbackError,
    driver_error=_driver_error,
    broken_transaction_hint="Roll the session back (session.rollback()) after the earlier error.",
    retry_hint="roll the session back and retry.",
    missing_tables_hint=(
        "Are the event store's tables created? Call configure_models(Base), then "
        "Base.metadata.create_all(engine) or run your alembic migrations."
    ),
)
translate = ERRORS.translate
is_duplicate_key = ERRORS.is_duplicate_key
