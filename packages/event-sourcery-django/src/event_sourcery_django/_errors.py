"""The one place where Django's database errors become Event Sourcery errors.

Storage methods catch `DATABASE_ERRORS` and raise ``translate(...) from exc``; nothing from
``django.db`` or a driver reaches a user of the public API. What an error means is decided
in the core (`SQLErrors`); this module names Django's classes and its advice.
"""

from __future__ import annotations

from django.db import DatabaseError, DataError, IntegrityError
from django.db.transaction import TransactionManagementError
from event_sourcery.sql import (
    SQLErrors,
)

#: What a storage method catches around its statements. Some drivers raise UnicodeError (a
#: string they cannot encode) or OverflowError (an int beyond 64 bits) as is.
DATABASE_ERRORS = (DatabaseError, UnicodeError, OverflowError)


def _driver_error(error: BaseException) -> BaseException:
    # Django's DatabaseError wraps the driver's, which carries the codes.
    return error.__cause__ or error if isinstance(error, DatabaseError) else error


ERRORS = SQLErrors(
    integrity=IntegrityError,
    data=(DataError, UnicodeError),
    statement=DatabaseError,
    broken_transaction=TransactionManagementError,
    driver_error=_driver_error,
    broken_transaction_hint=(
        "An earlier error broke the current transaction: leave the atomic block (or roll"
        " back) before using the event store again."
    ),
    retry_hint="roll back and retry.",
    missing_tables_hint=(
        'Are the event store\'s tables created? Add "event_sourcery_django" to '
        "INSTALLED_APPS and run `manage.py migrate` (on every database alias you use)."
    ),
)
translate = ERRORS.translate
is_duplicate_key = ERRORS.is_duplicate_key
