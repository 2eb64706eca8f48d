"""`DjangoBackend`: Event Sourcery on a Django database, in Django's transactions."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from event_sourcery import (
    Backend,
    BackendConfig,
    EventRegistry,
    EventStore,
    RawEvent,
    StreamId,
    WrappedEvent,
)
from event_sourcery.encryption import KeyStorage
from event_sourcery.exceptions import InvalidInput
from event_sourcery.interfaces import (
    CheckpointStrategy,
    ExpectedVersion,
    OutboxStrategy,
    StorageStrategy,
    SubscriptionStrategy,
)

from event_sourcery_django import _wakeups
from event_sourcery_django._errors import DATABASE_ERRORS, translate
from event_sourcery_django._keys import DjangoKeyStorage
from event_sourcery_django._reactions import DjangoCheckpointStrategy, DjangoOutboxStrategy
from event_sourcery_django._storage import DjangoStorageStrategy
from event_sourcery_django._subscription import DjangoSubscriptionStrategy


def check_alias(using: object) -> None:
    # Checked here, not on first use, where Django would raise ConnectionDoesNotExist from
    # deep inside an append. A dict lookup, no connection: constructing stays cheap. Before
    # the settings are configured (a backend made at import time) there is nothing to check.
    if not isinstance(using, str):
        raise InvalidInput(f"using must be a database alias (a str), got {type(using).__name__}")
    if settings.configured and using not in connections.settings:
        aliases = ", ".join(repr(alias) for alias in connections.settings)
        raise InvalidInput(
            f"using={using!r} is not a database alias of settings.DATABASES (it has {aliases})"
        )


@contextmanager
def unit_of_work(using: str, action: str) -> Iterator[None]:
    """``transaction.atomic(using=using)``, with its own database errors translated.

    Inside your transaction this is a savepoint: a failed write rolls back to it and leaves
    your transaction usable. In autocommit mode it is a transaction of its own. Exceptions of
    the body (a listener's, say) pass through unchanged, after the rollback.
    """
    block = transaction.atomic(using=using)
    try:
        block.__enter__()
    except DATABASE_ERRORS as error:
        raise translate(error, action) from error
    try:
        yield
    except BaseException:
        block.__exit__(*sys.exc_info())  # rolls back; never swallows the exception
        raise
    else:
        try:
            block.__exit__(None, None, None)
        except DATABASE_ERRORS as error:
            raise translate(error, action) from error


def wake_on_commit(using: str) -> None:
    """Wake this process's cursors reading `using` when the current transaction commits."""
    if connections[using].vendor != "postgresql":  # PostgreSQL appends NOTIFY instead
        transaction.on_commit(partial(_wakeups.committed, using), using=using, robust=True)


class DjangoEventStore(EventStore):
    """The `EventStore` of a `DjangoBackend`: each write is atomic on its own.

    An append runs in ``transaction.atomic`` together with its outbox entries and in-transaction
    listeners: all of it, or nothing, is kept.
    """

    __slots__ = ()

    @property
    def _using(self) -> str:
        storage = self._storage
        return storage.using if isinstance(storage, DjangoStorageStrategy) else DEFAULT_DB_ALIAS

    def append(
        self, *events: Any, stream_id: StreamId, expected_version: ExpectedVersion = 0
    ) -> None:
        using = self._using
        with unit_of_work(using, f"appending to stream {stream_id!r}"):
            super().append(*events, stream_id=stream_id, expected_version=expected_version)
            wake_on_commit(using)

    def append_raw(self, *events: RawEvent, expected_version: ExpectedVersion = 0) -> list[int]:
        stream_id = events[0].stream_id if events else None
        with unit_of_work(self._using, f"appending to stream {stream_id!r}"):
            return super().append_raw(*events, expected_version=expected_version)

    def save_snapshot(self, stream_id: StreamId, snapshot: WrappedEvent[Any]) -> None:
        with unit_of_work(self._using, f"saving a snapshot of stream {stream_id!r}"):
            super().save_snapshot(stream_id, snapshot)

    def delete_stream(self, stream_id: StreamId) -> None:
        with unit_of_work(self._using, f"deleting stream {stream_id!r}"):
            super().delete_stream(stream_id)


class DjangoBackend(Backend):
    """Event Sourcery on a database of your Django project, in Django's transactions.

    Make one, once, and import it where you need it: it holds no connection, and works on the
    calling thread's connection of its database alias each time it is used. Writes join your
    ``transaction.atomic`` block (as a savepoint, so a refused append leaves your transaction
    usable) or, in autocommit mode, commit on their own. Subscriptions read on connections of
    their own.

    Args:
        using: the database alias (``settings.DATABASES``) whose tables hold the store; run
            ``manage.py migrate --database <alias>`` for it. An alias that is not in
            ``settings.DATABASES`` raises `InvalidInput` at once.
        registry: the event registry; the default one (or that of `config`) if not given.
        config: backend-independent options built once at start-up (listeners, outbox, ...).
    """

    __slots__ = ("_using",)
    _event_store_class = DjangoEventStore

    def __init__(
        self,
        *,
        using: str = DEFAULT_DB_ALIAS,
        registry: EventRegistry | None = None,
        config: BackendConfig | None = None,
    ) -> None:
        check_alias(using)
        super().__init__(registry=registry, config=config)
        self._using = using

    @property
    def using(self) -> str:
        """The database alias this backend works on."""
        return self._using

    def _storage(self) -> StorageStrategy:
        return DjangoStorageStrategy(self._using, self.tenant_id)

    def _subscription_strategy(self) -> SubscriptionStrategy:
        return DjangoSubscriptionStrategy(self._using)

    def _outbox_strategy(self) -> OutboxStrategy:
        return DjangoOutboxStrategy(self._using)

    def _checkpoint_strategy(self) -> CheckpointStrategy:
        return DjangoCheckpointStrategy(self._using)

    def _key_storage(self) -> KeyStorage:
        return DjangoKeyStorage(self._using)

    def __repr__(self) -> str:
        return f"DjangoBackend(using={self._using!r}, tenant_id={self.tenant_id!r})"
