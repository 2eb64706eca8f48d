"""The conformance kit on SQLite, in memory and in a file."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from event_sourcery import Backend
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from event_sourcery_testing.conformance import BackendConformance
from sqlalchemy import Engine
from sqlalchemy.orm import Session


class _SQLAlchemyConformance(BackendConformance):
    """The kit over a fresh session per test; the engine comes from `database`."""

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


class TestSQLiteMemory(_SQLAlchemyConformance):
    @pytest.fixture
    def database(self, engine: Engine) -> Engine:
        return engine


class TestSQLiteFile(_SQLAlchemyConformance):
    @pytest.fixture
    def database(self, shared_file_engine: Engine) -> Engine:
        return shared_file_engine
