"""The opener the `event-sourcery` command line finds for SQLAlchemy URL schemes."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest
from event_sourcery.exceptions import InvalidInput
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from event_sourcery_sqlalchemy._cli import open_url


def test_is_registered_for_each_sql_scheme() -> None:
    points = {p.name: p for p in entry_points(group="event_sourcery.backends")}
    for scheme in ("sqlite", "postgresql", "mysql", "mariadb"):
        assert points[scheme].load() is open_url


def test_yields_a_backend_on_a_session(tmp_path: Path) -> None:
    (tmp_path / "x.db").touch()
    with open_url(f"sqlite:///{tmp_path / 'x.db'}") as backend:
        assert isinstance(backend, SQLAlchemyBackend)


def test_a_missing_sqlite_file_is_refused_not_created(tmp_path: Path) -> None:
    path = tmp_path / "typo.db"

    with pytest.raises(InvalidInput, match="no SQLite database at"), open_url(f"sqlite:///{path}"):
        pass  # pragma: no cover

    assert not path.exists()


@pytest.mark.parametrize("url", ["postgresql+nosuchdriver://u:s3cr3t@h/db", "no url at all"])
def test_a_bad_url_is_invalid_input_without_its_password(url: str) -> None:
    with pytest.raises(InvalidInput, match="cannot use this database URL") as raised, open_url(url):
        pass  # pragma: no cover
    assert "s3cr3t" not in str(raised.value)
