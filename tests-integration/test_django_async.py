"""`AsyncDjangoBackend` beyond the kit (the package's `es_django_async` checks: transactions of
Django's thread, waiting, cancellation) on PostgreSQL and MariaDB; SQLite: the package's tests."""

from __future__ import annotations

import sys

import pytest

support = sys.modules["es_django_integration"]  # loaded by conftest.py
support.configure()
kit = sys.modules["es_django_kit"]
checks = sys.modules["es_django_async"]


def _on(server: str) -> pytest.MarkDecorator:
    """The test database of `server`, if it has an alias (else the fixture skips)."""
    if server in support.databases():
        return pytest.mark.django_db(**kit.DATABASE_ACCESS, databases=[server])
    return pytest.mark.usefixtures()


@_on("postgresql")
class TestAsyncPostgreSQL(checks.AsyncDjangoChecks):  # type: ignore[misc, name-defined]
    using = "postgresql"

    @pytest.fixture(autouse=True)
    def _server(self, request: pytest.FixtureRequest) -> None:
        support.require(request, "postgresql")


@_on("mariadb")
class TestAsyncMariaDB(checks.AsyncDjangoChecks):  # type: ignore[misc, name-defined]
    using = "mariadb"

    @pytest.fixture(autouse=True)
    def _server(self, request: pytest.FixtureRequest) -> None:
        support.require(request, "mariadb")
