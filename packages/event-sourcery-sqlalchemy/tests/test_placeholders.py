"""The placeholders each driver takes, from the SQL core's ``%s`` statements."""

import pytest
from event_sourcery.exceptions import StorageError
from event_sourcery_sqlalchemy._driver import numbered, placeholders
from sqlalchemy.dialects import postgresql, sqlite


def test_numbered_writes_dollar_placeholders_and_single_percent_signs() -> None:
    sql = "SELECT to_char(x, '%%Y') FROM t WHERE a = %s AND b IN (%s, %s) LIMIT %s"
    assert numbered(sql) == "SELECT to_char(x, '%Y') FROM t WHERE a = $1 AND b IN ($2, $3) LIMIT $4"


def test_each_parameter_style_gets_its_placeholders() -> None:
    assert placeholders(postgresql.dialect()) is None  # psycopg2's pyformat: %s as it is
    rewrite = placeholders(sqlite.dialect())
    assert rewrite is not None
    assert rewrite("a = %s AND b LIKE '%%x'") == "a = ? AND b LIKE '%x'"


def test_an_unknown_parameter_style_is_refused_naming_the_supported_ones() -> None:
    dialect = sqlite.dialect(paramstyle="named")
    with pytest.raises(StorageError, match="numeric_dollar"):
        placeholders(dialect)
