"""Django's database errors become Event Sourcery errors with hints only where they apply."""

from __future__ import annotations

import sqlite3

import pytest
from django.db import OperationalError, ProgrammingError
from event_sourcery.exceptions import StorageError
from event_sourcery_django._errors import translate


class _PsycopgLike(Exception):
    """A driver error as psycopg makes it: a `sqlstate`, None when raised while connecting."""

    def __init__(self, message: str, sqlstate: str | None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


class _PsycopgOperationalError(_PsycopgLike):
    """psycopg's OperationalError, as it fails to connect: no SQLSTATE."""


_PsycopgOperationalError.__name__ = "OperationalError"


def _wrapped(django_error: type[Exception], cause: Exception) -> Exception:
    # As Django's DatabaseErrorWrapper raises it: the driver's error is the cause.
    error = django_error(*cause.args)
    error.__cause__ = cause
    return error


MISSING_DATABASES = {
    "postgresql": _PsycopgOperationalError('FATAL:  database "shop" does not exist', None),
    "mariadb": Exception(1049, "Unknown database 'shop'"),
}
MISSING_TABLES = {
    "postgresql": _PsycopgLike('relation "event_sourcery_django_stream" does not exist', "42P01"),
    "mariadb": Exception(1146, "Table 'shop.event_sourcery_django_stream' doesn't exist"),
    "sqlite": sqlite3.OperationalError("no such table: event_sourcery_django_stream"),
}


@pytest.mark.parametrize("cause", MISSING_DATABASES.values(), ids=MISSING_DATABASES.keys())
def test_a_missing_database_gets_no_advice_to_migrate(cause: Exception) -> None:
    # PostgreSQL's "database ... does not exist" used to get the missing-tables advice.
    error = translate(_wrapped(OperationalError, cause), "appending")
    assert isinstance(error, StorageError)
    assert "shop" in str(error)
    assert "migrate" not in str(error)


@pytest.mark.parametrize("cause", MISSING_TABLES.values(), ids=MISSING_TABLES.keys())
def test_missing_tables_say_to_migrate(cause: Exception) -> None:
    error = translate(_wrapped(ProgrammingError, cause), "appending")
    assert isinstance(error, StorageError)
    assert "run `manage.py migrate`" in str(error)
