"""The conformance kit on Django with PostgreSQL and MariaDB, in sync and asyncio mode
(`AsyncDjangoBackend`); SQLite: the package's tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from event_sourcery import Backend

support = sys.modules["es_django_integration"]  # loaded by conftest.py
support.configure()
kit = sys.modules["es_django_kit"]


def _on(server: str) -> pytest.MarkDecorator:
    """The test database of `server`, if it has an alias (else the fixture skips)."""
    if server in support.databases():
        return pytest.mark.django_db(**kit.DATABASE_ACCESS, databases=[server])
    return pytest.mark.usefixtures()


@_on("postgresql")
class TestPostgreSQL(kit.DjangoConformance):  # type: ignore[misc, name-defined]
    @pytest.fixture
    def backend(self, request: pytest.FixtureRequest) -> Iterator[Backend]:
        support.require(request, "postgresql")
        yield from kit.in_transaction(self, "postgresql")


@_on("mariadb")
class TestMariaDB(kit.DjangoConformance):  # type: ignore[misc, name-defined]
    @pytest.fixture
    def backend(self, request: pytest.FixtureRequest) -> Iterator[Backend]:
        support.require(request, "mariadb")
        yield from kit.in_transaction(self, "mariadb")


@_on("postgresql")
class TestAsyncPostgreSQL(kit.AsyncDjangoConformance):  # type: ignore[misc, name-defined]
    using = "postgresql"

    @pytest.fixture(autouse=True)
    def _server(self, request: pytest.FixtureRequest) -> None:
        support.require(request, "postgresql")


@_on("mariadb")
class TestAsyncMariaDB(kit.AsyncDjangoConformance):  # type: ignore[misc, name-defined]
    using = "mariadb"

    @pytest.fixture(autouse=True)
    def _server(self, request: pytest.FixtureRequest) -> None:
        support.require(request, "mariadb")
