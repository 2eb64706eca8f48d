"""A SQLite store with the tables made, and a runner of the command line against it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from event_sourcery_cli import app
from event_sourcery_sqlalchemy import SQLAlchemyBackend, configure_models
from sqlalchemy import MetaData, create_engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

# The runner's result class moved between Typer versions; tests use its common attributes.
Run = Callable[..., Any]


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A SQLite file with Event Sourcery's tables."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    metadata = MetaData()
    configure_models(metadata)
    engine = create_engine(url)
    metadata.create_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def session(url: str) -> Iterator[Session]:
    engine = create_engine(url)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def backend(session: Session) -> SQLAlchemyBackend:
    return SQLAlchemyBackend(session)


@pytest.fixture
def run(url: str, monkeypatch: pytest.MonkeyPatch) -> Run:
    """``run("streams", "list")``: the command on the store, its output not a terminal."""
    monkeypatch.delenv("EVENT_SOURCERY_URL", raising=False)

    def run(*args: str, url: str | None = url, input: str | None = None) -> Any:
        prefix = ["--url", url] if url is not None else []
        return CliRunner().invoke(app, [*prefix, *args], input=input)

    return run


@pytest.fixture
def make_store(tmp_path: Path) -> Callable[[], str]:
    """Makes another empty SQLite store with the tables; returns its URL."""
    made = iter(range(1_000_000))

    def make() -> str:
        url = f"sqlite:///{tmp_path / f'other{next(made)}.db'}"
        metadata = MetaData()
        configure_models(metadata)
        engine = create_engine(url)
        metadata.create_all(engine)
        engine.dispose()
        return url

    return make
