"""How backends name a driver's error: its class and code, never its text."""

import sqlite3

import pytest
from event_sourcery.interfaces import (
    describe_driver_error,
)
from event_sourcery.sql import (
    dbapi_class_of,
    driver_error_code,
    driver_error_codes,
    is_collision,
    is_connection_failure,
    is_missing_table,
    violates_event_id_index,
)


class _Psycopg(Exception):
    sqlstate = "22P02"


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (_Psycopg('invalid json\nCONTEXT:  JSON data, line 1: {"pan": "secret'), "22P02"),
        (Exception(1062, "Duplicate entry 'secret' for key 'name'"), "1062"),
        (Exception(True, "secret"), None),
        (UnicodeEncodeError("utf-8", "secret \ud800", 7, 8, "surrogates not allowed"), None),
    ],
)
def test_the_class_and_code_are_named_never_the_text(error: Exception, code: str | None) -> None:
    described = describe_driver_error(error)

    assert driver_error_code(error) == code
    assert "secret" not in described
    assert described.startswith(type(error).__name__)
    assert (code or "") in described
    assert "error.__cause__" in described


def test_sqlite_errors_are_named_by_their_error_name() -> None:
    with sqlite3.connect(":memory:") as connection:
        connection.execute("CREATE TABLE t (name TEXT UNIQUE)")
        connection.execute("INSERT INTO t VALUES ('secret')")
        with pytest.raises(sqlite3.IntegrityError) as caught:
            connection.execute("INSERT INTO t VALUES ('secret')")
    assert driver_error_code(caught.value) == "SQLITE_CONSTRAINT_UNIQUE"


@pytest.mark.parametrize(
    ("error", "collided"),
    [
        (Exception(1213, "Deadlock found"), True),
        (Exception(1205, "Lock wait timeout"), True),
        (type("SerializationFailure", (Exception,), {"sqlstate": "40001"})(), True),
        (type("Psycopg2Deadlock", (Exception,), {"pgcode": "40P01"})(), True),
        (Exception(1062, "Duplicate entry"), False),
        (Exception("no code"), False),
    ],
)
def test_colliding_transactions_are_recognised_by_code(error: Exception, collided: bool) -> None:
    assert is_collision(error) is collided


class _UndefinedTable(Exception):
    sqlstate = "42P01"


class _InvalidCatalogName(Exception):
    sqlstate = "3D000"


@pytest.mark.parametrize(
    ("error", "missing"),
    [
        (_UndefinedTable('relation "es_event" does not exist'), True),
        (Exception(1146, "Table 'test.es_event' doesn't exist"), True),
        # A database that does not exist is not a missing table, though its words say so.
        (_InvalidCatalogName('database "nope" does not exist'), False),
        (Exception(1049, "Unknown database 'nope'"), False),
        (None, False),
    ],
)
def test_a_missing_table_is_told_by_its_code(error: Exception | None, missing: bool) -> None:
    assert is_missing_table(error) is missing


def test_sqlite_missing_tables_are_told_by_the_message_only() -> None:
    with sqlite3.connect(":memory:") as connection:
        with pytest.raises(sqlite3.OperationalError) as caught:
            connection.execute("SELECT * FROM es_event")
        with pytest.raises(sqlite3.OperationalError) as other:
            connection.execute("SELECT nope FROM sqlite_master")
    assert is_missing_table(caught.value)
    assert not is_missing_table(other.value)


class _PyMySQLLike(Exception):
    """PyMySQL sets a SQLSTATE besides the errno; for a lock wait timeout it is HY000."""

    sqlstate = "HY000"


def test_every_code_counts_so_a_mysql_lock_wait_timeout_is_a_collision() -> None:
    error = _PyMySQLLike(1205, "Lock wait timeout exceeded; try restarting transaction")
    assert driver_error_codes(error) == ("HY000", "1205")
    assert is_collision(error)


class _PsycopgOperational(Exception):
    sqlstate = None


_PsycopgOperational.__name__ = "OperationalError"


@pytest.mark.parametrize(
    "error",
    [
        _PsycopgOperational('connection failed: FATAL:  database "nope" does not exist'),
        Exception(1049, "Unknown database 'nope'"),
        Exception(2003, "Can't connect to MySQL server on '127.0.0.1'"),
    ],
)
def test_a_failure_to_connect_is_quoted_it_names_no_event_data(error: Exception) -> None:
    assert is_connection_failure(error)
    assert "nope" in describe_driver_error(error) or "127.0.0.1" in describe_driver_error(error)


def test_a_statement_error_is_no_connection_failure() -> None:
    assert not is_connection_failure(_Psycopg("invalid input syntax for type json"))
    assert not is_connection_failure(Exception(1062, "Duplicate entry 'secret'"))
    assert not is_connection_failure(UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates"))


@pytest.mark.parametrize(
    ("message", "about_event_ids"),
    [
        ('duplicate key value violates unique constraint "es_events_uuid_uq"', True),
        ("Duplicate entry 'ab-' for key 'es_django_events_uuid_uq'", True),
        ("UNIQUE constraint failed: es_events.uuid, es_events.tenant_id", True),
        ('duplicate key value violates unique constraint "es_events_stream_version_uq"', False),
        ("UNIQUE constraint failed: es_events.stream_id, es_events.version", False),
        ("UNIQUE constraint failed: es_streams.uuid, es_streams.tenant_id", False),
    ],
)
def test_only_the_event_id_index_is_a_taken_event_id(message: str, about_event_ids: bool) -> None:
    assert violates_event_id_index(message) is about_event_ids


class _UniqueViolation(Exception):  # asyncpg's UniqueViolationError, say
    sqlstate = "23505"


class _ServerError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__("secret")
        self.sqlstate = sqlstate


class DataError(Exception):  # asyncpg's client-side DataError: no SQLSTATE
    pass


class _InvalidArgument(DataError):
    pass


@pytest.mark.parametrize(
    ("error", "name"),
    [
        (_UniqueViolation("duplicate key"), "IntegrityError"),
        (_ServerError("22P05"), "DataError"),
        (_ServerError("40P01"), "OperationalError"),
        (_ServerError("42P01"), "ProgrammingError"),
        (_ServerError("0A000"), "NotSupportedError"),
        (_ServerError("XX000"), "InternalError"),
        (_ServerError("25P02"), "DatabaseError"),
        (_InvalidArgument("invalid input for query argument $1"), "DataError"),
        (ConnectionResetError("reset by peer"), "OperationalError"),
        (ValueError("not the database's"), None),
    ],
)
def test_dbapi_class_of_sorts_errors_as_psycopg_does(error: Exception, name: str | None) -> None:
    assert dbapi_class_of(error) == name
