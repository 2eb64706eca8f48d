"""`SQLAlchemyBackend`: Event Sourcery over a SQLAlchemy 2 `Session`."""

from __future__ import annotations

from event_sourcery import Backend, BackendConfig, EventRegistry
from event_sourcery.encryption import KeyStorage
from event_sourcery.interfaces import (
    CheckpointStrategy,
    OutboxStrategy,
    StorageStrategy,
    SubscriptionStrategy,
)

from event_sourcery_sqlalchemy._checkpoints import SQLAlchemyCheckpointStrategy
from event_sourcery_sqlalchemy._keys import SQLAlchemyKeyStorage
from event_sourcery_sqlalchemy._models import SQLAlchemyModels, default_models
from event_sourcery_sqlalchemy._outbox import SQLAlchemyOutboxStrategy
from event_sourcery_sqlalchemy._storage import AnySession, SQLAlchemyStorageStrategy
from event_sourcery_sqlalchemy._subscription import SQLAlchemySubscriptionStrategy


class SQLAlchemyBackend(Backend):
    """Event Sourcery on SQLite, PostgreSQL or MariaDB, in the transaction of your session.

    The backend only executes statements in the session's current transaction: commit or roll
    back the session as you would for your own changes. Construction stores references only,
    so make one per session (or per request).

    Args:
        session: the SQLAlchemy `Session` (or `scoped_session`) to work in.
        registry: the event registry; the default one (or that of `config`) if not given.
        models: the tables from `configure_models(Base, table_prefix=...)`; the tables with
            the default names if not given.
        config: backend-independent options built once at start-up and shared by the
            backends of every session (in-transaction listeners, outbox, ...).
    """

    __slots__ = ("_models", "_session")

    def __init__(
        self,
        session: AnySession,
        *,
        registry: EventRegistry | None = None,
        models: SQLAlchemyModels | None = None,
        config: BackendConfig | None = None,
    ) -> None:
        super().__init__(registry=registry, config=config)
        self._session = session
        self._models = models

    @property
    def session(self) -> AnySession:
        """The session this backend works in."""
        return self._session

    def _tables(self) -> SQLAlchemyModels:
        return self._models if self._models is not None else default_models()

    def _storage(self) -> StorageStrategy:
        return SQLAlchemyStorageStrategy(self._session, self._tables(), self.tenant_id)

    def _subscription_strategy(self) -> SubscriptionStrategy:
        return SQLAlchemySubscriptionStrategy(self._session, self._tables())

    def _outbox_strategy(self) -> OutboxStrategy:
        return SQLAlchemyOutboxStrategy(self._session, self._tables())

    def _checkpoint_strategy(self) -> CheckpointStrategy:
        return SQLAlchemyCheckpointStrategy(self._session, self._tables())

    def _key_storage(self) -> KeyStorage:
        return SQLAlchemyKeyStorage(self._session, self._tables())
