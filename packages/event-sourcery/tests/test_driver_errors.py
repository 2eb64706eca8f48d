"""How backends name a driver's error: its class and code, never its text."""

import sqlite3

import pytest
from event_sourcery.interfaces import (
    describe_driver_error,
    driver_error_code,
    is_collision,
    is_missing_table,
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
