"""How a backend names a driver's error in its own messages (no I/O, no driver imports)."""

from __future__ import annotations

#: Codes of transactions that collided with another one, which a retry may get past:
#: serialization failure and deadlock (PostgreSQL's SQLSTATEs), lock wait timeout and deadlock
#: (MySQL/MariaDB's errnos), a database busy or locked by another connection (SQLite).
_COLLISIONS = frozenset({"40001", "40P01", "1205", "1213", "SQLITE_BUSY", "SQLITE_LOCKED"})


#: Codes of a statement naming a table that does not exist: PostgreSQL's undefined_table,
#: MySQL/MariaDB's ER_NO_SUCH_TABLE (SQLSTATE and errno). Codes, not words of the message:
#: "does not exist" also ends PostgreSQL's message for a database that does not exist, where
#: advice to create tables would send a user the wrong way.
_MISSING_TABLE = frozenset({"42P01", "42S02", "1146"})


def is_missing_table(error: BaseException | None) -> bool:
    """Whether a driver's `error` says that a table the statement names does not exist.

    sqlite3 gives that error no code of its own (only the generic ``SQLITE_ERROR``), so for
    it, and only for it, the message is read.
    """
    if error is None:
        return False
    code = driver_error_code(error)
    if code in _MISSING_TABLE:
        return True
    if code is None or code.startswith("SQLITE_"):
        return str(error).lower().lstrip().startswith("no such table")
    return False


def is_collision(error: BaseException) -> bool:
    """Whether a driver's `error` says that concurrent transactions collided (retry them)."""
    return driver_error_code(error) in _COLLISIONS


def driver_error_code(error: BaseException) -> str | None:
    """The SQLSTATE, errno (as text) or SQLite error name of a driver's `error`, if it has one."""
    # psycopg 3; psycopg2; sqlite3 (Python 3.11+)
    for attribute in ("sqlstate", "pgcode", "sqlite_errorname"):
        value = getattr(error, attribute, None)
        if isinstance(value, str) and value:
            return value
    args = getattr(error, "args", ())
    if args and isinstance(args[0], int) and not isinstance(args[0], bool):
        return str(args[0])  # MySQL drivers: (errno, message)
    return None


def describe_driver_error(error: BaseException) -> str:
    """`error`'s class and code (SQLSTATE, errno, SQLite's error name), never its text, and
    where that text is: "DataError (22P02; its message, which may quote event data, is the
    chained error.__cause__)".

    Databases quote the values they refuse in their messages (PostgreSQL's "CONTEXT: JSON
    data, line 1: {...}", MariaDB's "Duplicate entry '...'"), and those values are event
    data, which must not travel into logs through the library's messages. Backends raise
    their error ``from`` the driver's, so its full text stays at hand for debugging.

    Args:
        error: the driver's own exception (not a wrapper that adds the SQL and parameters).
    """
    code = driver_error_code(error)
    where = "its message, which may quote event data, is the chained error.__cause__"
    return (
        f"{type(error).__name__} ({code}; {where})" if code else f"{type(error).__name__} ({where})"
    )
