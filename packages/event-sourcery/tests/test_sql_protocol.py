"""The driver loop of the SQL protocol: statements out, outcomes in, errors thrown back in."""

import asyncio
from collections.abc import Generator
from typing import Any

import pytest
from event_sourcery.exceptions import StorageError
from event_sourcery.sql import (
    MariaDB,
    Outcome,
    Pause,
    PostgreSQL,
    SQLite,
    Statement,
    Step,
    Tables,
    drive,
    drive_async,
    flavour_for,
    qmark,
)


class Refused(Exception):
    pass


def _protocol() -> Generator[Step, Any, list[Any]]:
    seen: list[Any] = []
    outcome = yield Statement("SELECT %s", (1,))
    seen.append(outcome.rows)
    pause = yield Pause(0)
    seen.append(pause)
    try:
        yield Statement("INSERT refused")
    except Refused as error:
        seen.append(str(error))
    outcome = yield Statement("SELECT 2")
    seen.append(outcome.rowcount)
    return seen


def _run(statement: Statement) -> Outcome:
    if statement.sql == "INSERT refused":
        raise Refused("duplicate")
    return Outcome([[statement.sql]], 7, None)


def test_drive_sends_outcomes_and_throws_errors_into_the_protocol() -> None:
    assert drive(_protocol(), _run) == [[["SELECT %s"]], None, "duplicate", 7]


def test_drive_async_runs_the_same_protocol() -> None:
    async def run(statement: Statement) -> Outcome:
        return _run(statement)

    assert asyncio.run(drive_async(_protocol(), run)) == [[["SELECT %s"]], None, "duplicate", 7]


def test_an_error_the_protocol_does_not_catch_comes_out_unchanged() -> None:
    def protocol() -> Generator[Step, Any, None]:
        yield Statement("INSERT refused")

    with pytest.raises(Refused, match="duplicate"):
        drive(protocol(), _run)


def test_qmark_converts_placeholders_and_unescapes_percent_signs() -> None:
    assert qmark("SELECT %s, '100%%' WHERE a = %s") == "SELECT ?, '100%' WHERE a = ?"


@pytest.mark.parametrize(
    ("database", "flavour"),
    [("postgresql", PostgreSQL), ("mysql", MariaDB), ("mariadb", MariaDB), ("sqlite", SQLite)],
)
def test_flavours_by_database_name(database: str, flavour: type) -> None:
    tables = Tables('"s"', '"e"', '"n"', native_uuid=False)
    assert isinstance(flavour_for(database, tables), flavour)


def test_an_unsupported_database_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="PostgreSQL, SQLite and MariaDB, not 'mssql'"):
        flavour_for("mssql", Tables("s", "e", "n", native_uuid=False))
