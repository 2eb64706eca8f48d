"""`AsyncSQLAlchemyBackend`: Event Sourcery's asyncio API over a SQLAlchemy `AsyncSession`."""

from __future__ import annotations

from event_sourcery import AsyncBackend, BackendConfig, EventRegistry
from event_sourcery.encryption import AwaitedKeys, KeyStorage
from event_sourcery.exceptions import InvalidInput
from event_sourcery.interfaces import (
    AsyncCheckpointStrategy,
    AsyncOutboxStrategy,
    AsyncOutboxWriter,
    AsyncStorageStrategy,
    AsyncSubscriptionStrategy,
)
from sqlalchemy.ext.asyncio import AsyncSession

from event_sourcery_sqlalchemy._async_storage import (
    AsyncSQLAlchemyCheckpointStrategy,
    AsyncSQLAlchemyKeyStorage,
    AsyncSQLAlchemyOutboxStrategy,
    AsyncSQLAlchemyStorageStrategy,
)
from event_sourcery_sqlalchemy._async_subscription import AsyncSQLAlchemySubscriptionStrategy
from event_sourcery_sqlalchemy._models import SQLAlchemyModels, default_models
from event_sourcery_sqlalchemy._own import OwnWrites


class AsyncSQLAlchemyBackend(AsyncBackend):
    """Event Sourcery's asyncio API on SQLite (aiosqlite), PostgreSQL (psycopg, asyncpg) or
    MariaDB (asyncmy), in the transaction of your `AsyncSession`.

    The same tables, statements and rules as `SQLAlchemyBackend` (the SQL core's protocols,
    awaited): commit or roll back the session yourself. Make one per session.

    Args:
        session: the `AsyncSession` to work in (`InvalidInput` for anything else).
        registry: the event registry; the default one (or that of `config`) if not given.
        models: the tables from `configure_models(Base, ...)`; the default ones if not given.
        config: backend-independent options shared by the backends of every session.
    """

    __slots__ = ("_models", "_own_writes", "_session")

    def __init__(
        self,
        session: AsyncSession,
        *,
        registry: EventRegistry | None = None,
        models: SQLAlchemyModels | None = None,
        config: BackendConfig | None = None,
    ) -> None:
        if not isinstance(session, AsyncSession):
            raise InvalidInput(
                f"AsyncSQLAlchemyBackend needs a sqlalchemy.ext.asyncio.AsyncSession, got "
                f"{type(session).__name__}; e.g. `async with AsyncSession(engine) as session:`"
            )
        super().__init__(registry=registry, config=config)
        self._session = session
        self._models = models if models is not None else default_models()
        self._own_writes = OwnWrites()

    @property
    def session(self) -> AsyncSession:
        """The session this backend works in."""
        return self._session

    def _storage(self) -> AsyncStorageStrategy:
        return AsyncSQLAlchemyStorageStrategy(
            self._session, self._models, self.tenant_id, own_writes=self._own_writes
        )

    def _subscription_strategy(self) -> AsyncSubscriptionStrategy:
        return AsyncSQLAlchemySubscriptionStrategy(self._session, self._models, self._own_writes)

    def _outbox_writer(self) -> AsyncOutboxWriter:
        return self._outbox_strategy()

    def _outbox_strategy(self) -> AsyncOutboxStrategy:
        return AsyncSQLAlchemyOutboxStrategy(self._session, self._models)

    def _checkpoint_strategy(self) -> AsyncCheckpointStrategy:
        return AsyncSQLAlchemyCheckpointStrategy(self._session, self._models, self._own_writes)

    def _key_storage(self) -> KeyStorage:
        # Awaited by the async store and subscriber ahead of each encrypt/decrypt step.
        return AwaitedKeys(AsyncSQLAlchemyKeyStorage(self._session, self._models))
