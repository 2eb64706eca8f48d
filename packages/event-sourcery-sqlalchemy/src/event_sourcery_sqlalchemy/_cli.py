"""The `event-sourcery` command line's way in: a backend for a SQLAlchemy URL.

Registered in this distribution's ``pyproject.toml`` under the entry point group
``event_sourcery.backends`` for the schemes ``sqlite``, ``postgresql``, ``mysql`` and
``mariadb`` (a ``+driver`` suffix is looked up by its base scheme), so the command line imports
no backend of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from event_sourcery import Backend
from event_sourcery.exceptions import InvalidInput
from sqlalchemy import create_engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session

from event_sourcery_sqlalchemy._backend import SQLAlchemyBackend


@contextmanager
def open_url(url: str) -> Iterator[Backend]:
    """A backend on a session of `url`'s database; committed if the block succeeds.

    The tables must exist (``configure_models`` and your migrations made them): the command
    line inspects and operates a store, it never creates one.

    Raises:
        InvalidInput: `url` is not a SQLAlchemy URL, its driver is not installed, or it names
            a SQLite file that does not exist.
    """
    try:
        engine = create_engine(url)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        # The URL's text may hold a password: only the driver's complaint is quoted.
        raise InvalidInput(
            f"cannot use this database URL: {type(exc).__name__}: {exc}; a SQLAlchemy URL "
            "looks like sqlite:///file.db or postgresql+psycopg://user@host/db, and its "
            "driver must be installed (the postgresql and mariadb extras)"
        ) from exc
    database = engine.url.database
    if (
        engine.url.get_backend_name() == "sqlite"
        and database not in (None, "", ":memory:")
        and not database.startswith("file:")
        and not Path(database).exists()
    ):
        engine.dispose()
        # SQLite would make an empty file there: a typo must not leave one behind.
        raise InvalidInput(
            f"no SQLite database at {database!r}; check the path (sqlite:///relative.db, "
            "sqlite:////absolute/path.db)"
        )
    try:
        with Session(engine) as session:
            yield SQLAlchemyBackend(session)
            session.commit()
    finally:
        engine.dispose()
