"""The async ports over an `AsyncSession`: the core's protocols driven with `drive_async`.

The session is the user's: statements run in its current transaction, and nothing here ever
commits or rolls back. Loads, snapshots and deletion are `AsyncSQLStorageStrategy`'s; this
module supplies how a protocol runs (`AsyncOnSession`), the append and the position.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from event_sourcery import StreamId
from event_sourcery.interfaces import ExpectedVersion, RawEvent
from event_sourcery.sql import (
    AsyncDriver,
    AsyncSQLCheckpointStrategy,
    AsyncSQLKeyStorage,
    AsyncSQLOutboxStrategy,
    AsyncSQLStorageStrategy,
    Flavour,
    Protocol,
    append_events,
    drive_async,
    settled_position,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from event_sourcery_sqlalchemy._async_driver import async_runner, connected
from event_sourcery_sqlalchemy._errors import DATABASE_ERRORS, ERRORS, translate
from event_sourcery_sqlalchemy._models import SQLAlchemyModels
from event_sourcery_sqlalchemy._own import OwnWrites
from event_sourcery_sqlalchemy._sql import flavour_of
from event_sourcery_sqlalchemy._storage import TenantScoped

T = TypeVar("T")


class AsyncOnSession(AsyncDriver):
    """Runs the core's protocols in the transaction of `session`, on the tables of `models`."""

    def __init__(self, session: AsyncSession, models: SQLAlchemyModels) -> None:
        self._session = session
        self._models = models
        #: The session's innermost transaction and its connection, from the last
        #: `connection()`.
        self._current: tuple[SessionTransaction, AsyncConnection] | None = None

    async def _connection(self) -> AsyncConnection:
        """The connection of the session's current transaction: the one the last call got
        while that transaction is still the session's, active and its connection usable, as
        ``AsyncSession.connection()`` would return it; else ``connection()`` (a greenlet hop,
        which begins the transaction and checks a connection out of the pool)."""
        sync = self._session.sync_session
        current = self._current
        if current is not None and _still_current(sync, *current):
            return current[1]
        # The dialect of the engine `connection()` connects with (no I/O).
        dialect = sync.get_bind().dialect
        connection = await connected(self._session.connection(), dialect)
        transaction = _innermost(sync)
        self._current = None if transaction is None else (transaction, connection)
        return connection

    async def _protocol_result(self, protocol: Callable[[Flavour], Protocol[T]]) -> T:
        connection = await self._connection()
        run = await async_runner(connection)
        return await drive_async(protocol(flavour_of(self._models, connection.dialect)), run)

    async def _drive(
        self, action: str, writing_events: bool, protocol: Callable[[Flavour], Protocol[T]]
    ) -> T:
        try:
            return await self._protocol_result(protocol)
        except DATABASE_ERRORS as error:
            raise translate(error, action, writing_events=writing_events) from error


def _innermost(session: Session) -> SessionTransaction | None:
    """The session's innermost transaction: its latest savepoint's, else its root one."""
    return session.get_nested_transaction() or session.get_transaction()


def _still_current(
    session: Session, transaction: SessionTransaction, connection: AsyncConnection
) -> bool:
    """Whether `connection`, got by ``connection()`` in `transaction`, is what ``connection()``
    returns now, with no I/O: `transaction` is still the session's innermost transaction and
    active, and the connection is neither closed nor invalidated (``connection()`` reconnects
    it). A commit, a rollback or ``close()`` ends the transaction (the next one is a new
    object); after a failed flush it is inactive and ``connection()`` raises, as it must.
    Innermost, not root: ``connection()`` is what emits the SAVEPOINT of a ``begin_nested()``
    (lazily), and, once it ends, takes the root transaction's connection again."""
    if _innermost(session) is not transaction or not transaction.is_active:
        return False
    sync = connection.sync_connection
    return sync is not None and not (sync.closed or sync.invalidated)


class AsyncSQLAlchemyStorageStrategy(TenantScoped, AsyncOnSession, AsyncSQLStorageStrategy):
    """Stores streams in the tables of `models`, through `session`, for one tenant: the
    append of `SQLAlchemyStorageStrategy` (the same protocol), awaited."""

    async def insert_events(
        self, stream_id: StreamId, expected: ExpectedVersion, events: Sequence[RawEvent]
    ) -> list[int]:
        def append(flavour: Flavour) -> Protocol[list[int]]:
            return append_events(flavour, ERRORS, self._tenant, stream_id, expected, events)

        try:
            positions = await self._protocol_result(append)
        except DATABASE_ERRORS as error:
            raise ERRORS.translate_append(error, stream_id, expected) from error
        self._own_writes.note_positions(self._session.sync_session, positions)
        return positions

    async def current_position(self) -> int:
        # As the sync strategy: once every transaction in flight has ended.
        return await self._drive("reading the current position", False, settled_position)


class AsyncSQLAlchemyOutboxStrategy(AsyncOnSession, AsyncSQLOutboxStrategy):
    """The outbox table of `models`, in the transaction of `session`: appends put entries,
    the relay (`AsyncOutbox`) claims and settles them."""


class AsyncSQLAlchemyCheckpointStrategy(AsyncOnSession, AsyncSQLCheckpointStrategy):
    """The checkpoints table of `models`, in the transaction of `session`.

    As `SQLAlchemyCheckpointStrategy`: a load notes the server id of the session's
    connection in `own_writes`, so that the projector's cursor, reading the log on a
    connection of its own, does not wait for the projector's own transaction.
    """

    def __init__(self, session: AsyncSession, models: SQLAlchemyModels, own_writes: OwnWrites):
        super().__init__(session, models)
        self._own_writes = own_writes

    def _note_identity(self, identity: int) -> None:
        self._own_writes.note_session(self._session.sync_session, identity)


class AsyncSQLAlchemyKeyStorage(AsyncOnSession, AsyncSQLKeyStorage):
    """The keys table of `models`; keys are written and shredded in `session`'s transaction."""
