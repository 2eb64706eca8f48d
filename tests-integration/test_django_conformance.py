"""The conformance kit on Django with PostgreSQL and MariaDB (SQLite: the package's tests)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from event_sourcery import Backend


def _load_support() -> ModuleType:
    name, path = "es_django_integration", Path(__file__).with_name("django_support.py")
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


support = _load_support()
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
