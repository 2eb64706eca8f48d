"""What a SQL driver's error means, and how a backend names it in its own messages.

Decided once for every SQL backend and driver, from the codes drivers attach (no I/O, no driver
imports): psycopg's ``sqlstate`` (psycopg2's ``pgcode``), PyMySQL's ``sqlstate`` and the MySQL
drivers' errno in ``args[0]``, sqlite3's ``sqlite_errorname``. A MySQL error carries both a
SQLSTATE and an errno, and some rules know only one of them (a lock wait timeout's SQLSTATE is
the generic HY000), so every rule looks at all of an error's codes.

Also here: which unique index a duplicate-key error is about, for the one index whose
violation is not a conflict (`EVENT_ID_INDEX`: an event id taken).
"""

from __future__ import annotations

from typing import Final

#: Codes of transactions that collided with another one, which a retry may get past:
#: serialization failure and deadlock (PostgreSQL's SQLSTATEs), lock wait timeout and deadlock
#: (MySQL/MariaDB's errnos), a database busy or locked by another connection (SQLite).
_COLLISIONS = frozenset({"40001", "40P01", "1205", "1213", "SQLITE_BUSY", "SQLITE_LOCKED"})

#: Codes of a statement naming a table that does not exist: PostgreSQL's undefined_table,
#: MySQL/MariaDB's ER_NO_SUCH_TABLE (SQLSTATE and errno). Codes, not words of the message:
#: "does not exist" also ends PostgreSQL's message for a database that does not exist, where
#: advice to create tables would send a user the wrong way.
_MISSING_TABLE = frozenset({"42P01", "42S02", "1146"})

#: Errnos of MySQL/MariaDB failing to connect or losing the connection: access denied (1044,
#: 1045), unknown database (1049), and the client's can't connect / server gone / lost (2002,
#: 2003, 2005, 2006, 2013). PostgreSQL's are whole SQLSTATE classes (`_CONNECTION_CLASSES`).
_CONNECTION_ERRNOS = frozenset({"1044", "1045", "1049", "2002", "2003", "2005", "2006", "2013"})
#: connection_exception (08), invalid_authorization_specification (28), invalid_catalog_name
#: (3D: the database does not exist), operator_intervention (57: the server shut down).
_CONNECTION_CLASSES = ("08", "28", "3D", "57P")


#: PEP 249's class of an error by its SQLSTATE class, as psycopg sorts PostgreSQL's errors.
_DBAPI_CLASSES = {
    "08": "OperationalError",
    "0A": "NotSupportedError",
    "20": "ProgrammingError",
    "21": "ProgrammingError",
    "22": "DataError",
    "23": "IntegrityError",
    "28": "OperationalError",
    "34": "ProgrammingError",
    "3D": "ProgrammingError",
    "3F": "ProgrammingError",
    "40": "OperationalError",
    "42": "ProgrammingError",
    "44": "ProgrammingError",
    "53": "OperationalError",
    "54": "OperationalError",
    "55": "OperationalError",
    "57": "OperationalError",
    "58": "OperationalError",
    "F0": "OperationalError",
    "HV": "OperationalError",
    "P0": "ProgrammingError",
}
_DBAPI_NAMES = frozenset(
    {"InterfaceError", "DataError", "IntegrityError", "OperationalError", "ProgrammingError"}
)


def driver_error_codes(error: BaseException) -> tuple[str, ...]:
    """Every code of a driver's `error`: SQLSTATE, SQLite error name, errno (as text)."""
    codes = []
    for attribute in ("sqlstate", "pgcode", "sqlite_errorname"):
        value = getattr(error, attribute, None)
        if isinstance(value, str) and value:
            codes.append(value)
    args = getattr(error, "args", ())
    if args and isinstance(args[0], int) and not isinstance(args[0], bool):
        codes.append(str(args[0]))  # MySQL drivers: (errno, message)
    return tuple(codes)


def driver_error_code(error: BaseException) -> str | None:
    """The first of `driver_error_codes(error)`, the one messages name; None if it has none."""
    codes = driver_error_codes(error)
    return codes[0] if codes else None


def is_collision(error: BaseException) -> bool:
    """Whether a driver's `error` says that concurrent transactions collided (retry them)."""
    return not _COLLISIONS.isdisjoint(driver_error_codes(error))


def is_missing_table(error: BaseException | None) -> bool:
    """Whether a driver's `error` says that a table the statement names does not exist.

    sqlite3 gives that error no code of its own (only the generic ``SQLITE_ERROR``), so for
    it, and only for it, the message is read.
    """
    if error is None:
        return False
    codes = driver_error_codes(error)
    if not _MISSING_TABLE.isdisjoint(codes):
        return True
    if all(code.startswith("SQLITE_") for code in codes):
        return str(error).lower().lstrip().startswith("no such table")
    return False


def is_connection_failure(error: BaseException) -> bool:
    """Whether a driver's `error` is about reaching the server, not about a statement.

    psycopg raises connection failures (refused, unknown database, bad password, a server
    that went away) as an ``OperationalError`` with no SQLSTATE: the server sent no error
    for a statement. Such messages name hosts, databases and users, never event data.
    """
    codes = driver_error_codes(error)
    if not codes:
        return type(error).__name__ == "OperationalError"
    return any(code in _CONNECTION_ERRNOS or code.startswith(_CONNECTION_CLASSES) for code in codes)


def describe_driver_error(error: BaseException) -> str:
    """`error`'s class and code (SQLSTATE, errno, SQLite's error name), never its text, and
    where that text is: "DataError (22P02; its message, which may quote event data, is the
    chained error.__cause__)".

    Databases quote the values they refuse in their messages (PostgreSQL's "CONTEXT: JSON
    data, line 1: {...}", MariaDB's "Duplicate entry '...'"), and those values are event
    data, which must not travel into logs through the library's messages. Backends raise
    their error ``from`` the driver's, so its full text stays at hand for debugging.

    The one exception is a failure to reach the server (`is_connection_failure`): its text
    names the host, database or user at fault, which is what the reader needs, and no
    statement ran that could have quoted event data.

    Args:
        error: the driver's own exception (not a wrapper that adds the SQL and parameters).
    """
    if is_connection_failure(error):
        return f"{type(error).__name__}: {' '.join(str(error).split())}"
    code = driver_error_code(error)
    where = "its message, which may quote event data, is the chained error.__cause__"
    return (
        f"{type(error).__name__} ({code}; {where})" if code else f"{type(error).__name__} ({where})"
    )


#: Name SQL backends give (as a suffix) to their unique index on the events' (uuid, tenant).
EVENT_ID_INDEX: Final = "events_uuid_uq"


def violates_event_id_index(message: str) -> bool:
    """Whether a database's uniqueness error is about the events' id index (`EVENT_ID_INDEX`).

    PostgreSQL and MariaDB name the index in the message, SQLite names its columns
    ("<table>.uuid, <table>.tenant_id"). Each SQL backend maps the error with this at its one
    place of translation, so an event id taken is a `DuplicateEventId`, not a conflict.
    """
    return EVENT_ID_INDEX in message or "events.uuid, " in message


def dbapi_class_of(error: BaseException) -> str | None:
    """The name of the PEP 249 class (``IntegrityError``, ``DataError``, ...) a driver's
    `error` belongs in; None for an error that is not the database's.

    For drivers whose errors are classes of their own rather than PEP 249's (asyncpg's
    ``UniqueViolationError``), so that their errors mean what psycopg's do: by the SQLSTATE
    class where the server sent one (a server error of no listed class is a
    ``DatabaseError``), else by the name of a PEP 249 class the error derives from (asyncpg's
    client-side ``DataError``, ``InterfaceError``). A failed socket (`OSError`) is an
    ``OperationalError``: the connection is gone.
    """
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str) and len(sqlstate) == 5:
        return _DBAPI_CLASSES.get(
            sqlstate[:2], "InternalError" if sqlstate[:2] == "XX" else "DatabaseError"
        )
    for klass in type(error).__mro__:
        if klass.__name__ in _DBAPI_NAMES:
            return klass.__name__
    return "OperationalError" if isinstance(error, OSError) else None
