"""Packaging conventions that hold across distributions (their pyproject.toml files)."""

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

_PACKAGES = Path(__file__).resolve().parents[1] / "packages"
_SQL_BACKENDS = ("event-sourcery-sqlalchemy", "event-sourcery-django")


def _extras(distribution: str) -> dict[str, list[tuple[str, set[str]]]]:
    pyproject = tomllib.loads((_PACKAGES / distribution / "pyproject.toml").read_text("utf-8"))
    extras = pyproject["project"].get("optional-dependencies", {})
    return {
        name: [(Requirement(line).name, Requirement(line).extras) for line in lines]
        for name, lines in extras.items()
    }


@pytest.mark.parametrize("distribution", _SQL_BACKENDS)
def test_sql_backends_offer_the_same_driver_extras(distribution: str) -> None:
    # One convention, documented in docs/index.md: an extra per database, bringing a driver that
    # installs from wheels alone (psycopg's binary build bundles libpq; PyMySQL is pure Python).
    assert _extras(distribution) == {
        "postgresql": [("psycopg", {"binary"})],
        "mariadb": [("pymysql", set())],
    }
