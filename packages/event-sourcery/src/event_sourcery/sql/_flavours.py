"""The flavour of a database, by the name its drivers give it."""

from __future__ import annotations

from event_sourcery.exceptions import StorageError
from event_sourcery.sql._flavour import Flavour, Tables
from event_sourcery.sql._mariadb import MariaDB
from event_sourcery.sql._postgresql import PostgreSQL
from event_sourcery.sql._sqlite import SQLite

_BY_NAME: dict[str, type[Flavour]] = {
    "postgresql": PostgreSQL,
    "sqlite": SQLite,
    "mariadb": MariaDB,
    # MariaDB through MySQL drivers (PyMySQL, mysqlclient) and SQLAlchemy's mysql dialect.
    "mysql": MariaDB,
}


def flavour_for(database: str, tables: Tables) -> Flavour:
    """The flavour of `database` (``postgresql``, ``sqlite``, ``mariadb`` or ``mysql``) for
    `tables`; `StorageError` naming the supported ones for any other."""
    flavour = _BY_NAME.get(database)
    if flavour is None:
        raise StorageError(
            f"Event Sourcery's SQL backends support PostgreSQL, SQLite and MariaDB, not "
            f"{database!r}."
        )
    return flavour(tables)
