"""What SQL drivers' errors mean, decided once for every SQL backend (no driver import)."""

from __future__ import annotations

# SQLSTATEs of PostgreSQL's undefined_table and of MySQL/MariaDB's ER_NO_SUCH_TABLE (PyMySQL
# sets it), and the errno of the latter (mysqlclient gives only that). Codes, not words of the
# message: "does not exist" also ends PostgreSQL's message for a database that does not exist,
# where advice to create tables would send a user the wrong way.
_MISSING_TABLE_CODES: frozenset[object] = frozenset({"42P01", "42S02", 1146})


def is_missing_table(driver_error: BaseException | None) -> bool:
    """Whether a DB-API driver's error says that a table the statement names does not exist.

    Read by duck typing: the ``sqlstate`` of psycopg and PyMySQL, the MySQL drivers' errno
    (``args[0]``), and for sqlite3, which has neither, its message.

    Args:
        driver_error: the driver's own exception (not SQLAlchemy's or Django's wrapper).
    """
    if driver_error is None:
        return False
    sqlstate = getattr(driver_error, "sqlstate", None)
    first = next(iter(driver_error.args), None)
    errno = first if isinstance(first, int) else None
    if sqlstate is not None or errno is not None:
        return sqlstate in _MISSING_TABLE_CODES or errno in _MISSING_TABLE_CODES
    return str(driver_error).lower().lstrip().startswith("no such table")
