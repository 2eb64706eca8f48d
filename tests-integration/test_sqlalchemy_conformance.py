"""The conformance kit on every database of the SQLAlchemy backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from event_sourcery import Backend
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from event_sourcery_testing.conformance import BackendConformance
from sqlalchemy import Engine
from sqlalchemy.orm import Session


class _SQLAlchemyConformance(BackendConformance):
    """The kit over a fresh session per test, on the engine of fixture `database`."""

    @pytest.fixture
    def backend(self, database: Engine) -> Iterator[Backend]:
        with Session(database) as session:
            yield SQLAlchemyBackend(session)
            session.rollback()

    def commit(self, backend: Backend) -> None:
        assert isinstance(backend, SQLAlchemyBackend)
        backend.session.commit()

    def rollback(self, backend: Backend) -> None:
        assert isinstance(backend, SQLAlchemyBackend)
        backend.session.rollback()


class TestSQLiteFile(_SQLAlchemyConformance):
    @pytest.fixture
    def database(self, sqlite_file_engine: Engine) -> Engine:
        return sqlite_file_engine


class TestSQLiteMemory(_SQLAlchemyConformance):
    @pytest.fixture
    def database(self, sqlite_memory_engine: Engine) -> Engine:
        return sqlite_memory_engine


class TestPostgreSQL(_SQLAlchemyConformance):
    @pytest.fixture
    def database(self, postgresql_engine: Engine) -> Engine:
        return postgresql_engine


class TestMariaDB(_SQLAlchemyConformance):
    @pytest.fixture
    def database(self, mariadb_engine: Engine) -> Engine:
        return mariadb_engine
