"""Fixtures of the unit tests: SQLite only, in memory or in a temporary file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from event_sourcery_sqlalchemy import SQLAlchemyBackend, configure_models
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.pool import StaticPool


class Base(DeclarativeBase):
    pass


configure_models(Base)


def memory_engine() -> Engine:
    """One shared in-memory database (StaticPool: every session sees the same connection)."""
    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    Base.metadata.create_all(engine)
    return engine


def file_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    return engine


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    """An in-memory database shared by a module's tests (which never assume it is empty)."""
    engine = memory_engine()
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def shared_file_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A SQLite file database shared by a module's tests."""
    engine = file_engine(tmp_path_factory.mktemp("sqlite") / "events.sqlite3")
    yield engine
    engine.dispose()


@pytest.fixture
def file_db(tmp_path: Path) -> Iterator[Engine]:
    """A fresh SQLite file database, for tests that need several real connections."""
    engine = file_engine(tmp_path / "events.sqlite3")
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session
        session.rollback()


@pytest.fixture
def backend(session: Session) -> SQLAlchemyBackend:
    return SQLAlchemyBackend(session)
