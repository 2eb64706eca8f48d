"""The `event-sourcery` command line's way in: a backend for a KurrentDB connection string.

Registered in this distribution's ``pyproject.toml`` under the entry point group
``event_sourcery.backends`` for the schemes ``kurrentdb`` and ``esdb`` (``+discover`` is
looked up by its base scheme), so the command line imports no backend of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from event_sourcery import Backend
from event_sourcery.exceptions import InvalidInput
from kurrentdbclient import KurrentDBClient

from event_sourcery_kurrentdb._backend import KurrentDBBackend
from event_sourcery_kurrentdb._options import DEFAULT_OUTBOX


@contextmanager
def open_url(url: str, *, outbox_name: str = DEFAULT_OUTBOX) -> Iterator[Backend]:
    """A backend on a client of `url`, closed afterwards (KurrentDB has nothing to commit).

    `outbox_name` is the outbox the backend uses (``event-sourcery outbox --outbox-name``):
    applications sharing one server keep separate outboxes.

    Raises:
        InvalidInput: `url` is not a KurrentDB connection string.
    """
    try:
        client = KurrentDBClient(uri=url)
    except ValueError as exc:  # kurrentdbclient's complaint about the URI's syntax
        raise InvalidInput(
            f"cannot use this KurrentDB URI: {exc}; it looks like kurrentdb://host:2113?Tls=false"
        ) from exc
    try:
        yield KurrentDBBackend(client, outbox_name=outbox_name)
    finally:
        client.close()
