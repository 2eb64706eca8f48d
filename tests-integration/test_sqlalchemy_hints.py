"""Hints in storage errors are given only where they apply, on every database.

A PostgreSQL URL naming a database that does not exist used to get the missing-tables advice
("FATAL: database "x" does not exist. Are the event store's tables created? ..."), because the
hint was chosen by words of the message ("does not exist").
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from event_sourcery import StreamId
from event_sourcery.exceptions import StorageError
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from sqlalchemy import URL, create_engine
from sqlalchemy.orm import Session

_SERVERS = ["postgresql", "mariadb"]


def _load_error(url: URL) -> StorageError:
    engine = create_engine(url)
    try:
        with Session(engine) as session, pytest.raises(StorageError) as raised:
            SQLAlchemyBackend(session).event_store.load_stream(StreamId())
    finally:
        engine.dispose()
    return raised.value


@pytest.mark.parametrize("server", _SERVERS)
def test_a_missing_database_gets_no_missing_tables_advice(
    server: str, empty_database: Callable[[str], URL]
) -> None:
    existing = empty_database(server)  # only for the server's URL; this database is not used
    missing = existing.set(database=f"es_missing_{uuid.uuid4().hex[:12]}")
    error = _load_error(missing)
    assert missing.database is not None
    assert missing.database in str(error)
    assert "tables" not in str(error)
    assert "create_all" not in str(error)


@pytest.mark.parametrize("server", ["sqlite", *_SERVERS])
def test_a_database_without_the_tables_gets_the_advice(
    server: str, empty_database: Callable[[str], URL]
) -> None:
    error = _load_error(empty_database(server))
    assert "Are the event store's tables created? Call configure_models(Base)" in str(error)
