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
from sqlalchemy.ext.asyncio import AsyncSession

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

    async def _protocol_result(self, protocol: Callable[[Flavour], Protocol[T]]) -> T:
        # The dialect of the engine `connection()` connects with (no I/O).
        dialect = self._session.sync_session.get_bind().dialect
        connection = await connected(self._session.connection(), dialect)
        run = await async_runner(connection)
        return await drive_async(protocol(flavour_of(self._models, connection.dialect)), run)

    async def _drive(
        self, action: str, writing_events: bool, protocol: Callable[[Flavour], Protocol[T]]
    ) -> T:
        try:
            return await self._protocol_result(protocol)
        except DATABASE_ERRORS as error:
            raise translate(error, action, writing_events=writing_events) from error


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
