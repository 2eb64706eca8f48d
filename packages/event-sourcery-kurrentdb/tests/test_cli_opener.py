"""The opener the `event-sourcery` command line finds for ``kurrentdb://`` and ``esdb://``."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest
from event_sourcery.exceptions import InvalidInput
from event_sourcery_kurrentdb import KurrentDBBackend
from event_sourcery_kurrentdb._cli import open_url


def test_is_registered_for_both_schemes() -> None:
    points = {p.name: p for p in entry_points(group="event_sourcery.backends")}
    assert points["kurrentdb"].load() is open_url
    assert points["esdb"].load() is open_url


def test_yields_a_backend_of_the_uri() -> None:
    with open_url("kurrentdb://127.0.0.1:1?Tls=false") as backend:  # connects lazily
        assert isinstance(backend, KurrentDBBackend)


def test_a_bad_uri_is_invalid_input() -> None:
    with (
        pytest.raises(InvalidInput, match="cannot use this KurrentDB URI"),
        open_url("kurrentdb://host:2113?NoSuchOption=1"),
    ):
        pass  # pragma: no cover
