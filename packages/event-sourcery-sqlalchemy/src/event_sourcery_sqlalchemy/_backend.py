"""`SQLAlchemyBackend`: Event Sourcery over a SQLAlchemy 2 `Session`."""

from __future__ import annotations

from event_sourcery import Backend, BackendConfig, EventRegistry
from event_sourcery.encryption import KeyStorage
from event_sourcery.exceptions import InvalidInput
from event_sourcery.interfaces import (
    CheckpointStrategy,
    OutboxStrategy,
    StorageStrategy,
    SubscriptionStrategy,
)
from sqlalchemy.orm import Session, scoped_session

from event_sourcery_sqlalchemy._keys import SQLAlchemyKeyStorage
from event_sourcery_sqlalchemy._models import SQLAlchemyModels, default_models
from event_sourcery_sqlalchemy._outbox import (
    SQLAlchemyCheckpointStrategy,
    SQLAlchemyOutboxStrategy,
)
from event_sourcery_sqlalchemy._own import OwnWrites
from event_sourcery_sqlalchemy._storage import AnySession, SQLAlchemyStorageStrategy
from event_sourcery_sqlalchemy._subscription import SQLAlchemySubscriptionStrategy


def _check_session(session: object) -> None:
    # Checked here, not on first use: an Engine or a Connection would otherwise fail deep in a
    # query with an AttributeError that names neither the backend nor the fix.
    if isinstance(session, (Session, scoped_session)):
        return
    got = type(session).__name__
    if got in ("Engine", "Connection"):
        fix = f"open a session on it: `with Session({got.lower()}) as session:`"
    else:
        fix = "e.g. `with Session(engine) as session:`"
    raise InvalidInput(
        f"SQLAlchemyBackend needs a sqlalchemy.orm.Session (or scoped_session), got {got}; "
        f"{fix} then SQLAlchemyBackend(session), one backend per session."
    )


class SQLAlchemyBackend(Backend):
    """Event Sourcery on SQLite, PostgreSQL or MariaDB, in the transaction of your session.

    The backend only executes statements in the session's current transaction: commit or roll
    back the session as you would for your own changes. Construction stores references only,
    so make one per session (or per request).

    Args:
        session: the SQLAlchemy `Session` (or `scoped_session`) to work in, not an `Engine`
            or `Connection` (`InvalidInput` says so at once).
        registry: the event registry; the default one (or that of `config`) if not given.
        models: the tables from `configure_models(Base, table_prefix=...)`; the tables with
            the default names if not given.
        config: backend-independent options built once at start-up and shared by the
            backends of every session (in-transaction listeners, outbox, ...).
    """

    __slots__ = ("_models", "_own_writes", "_session")

    def __init__(
        self,
        session: AnySession,
        *,
        registry: EventRegistry | None = None,
        models: SQLAlchemyModels | None = None,
        config: BackendConfig | None = None,
    ) -> None:
        _check_session(session)
        if models is not None and not isinstance(models, SQLAlchemyModels):
            raise InvalidInput(
                f"models must be what configure_models(Base) returned, got {type(models).__name__}"
            )
        super().__init__(registry=registry, config=config)
        self._session = session
        self._models = models
        # What the transactions of its session(s) appended, for their own subscriptions:
        # shared by the storage, checkpoint and subscription strategies (and by copies).
        self._own_writes = OwnWrites()

    @property
    def session(self) -> AnySession:
        """The session this backend works in."""
        return self._session

    def _tables(self) -> SQLAlchemyModels:
        return self._models if self._models is not None else default_models()

    def _storage(self) -> StorageStrategy:
        return SQLAlchemyStorageStrategy(
            self._session, self._tables(), self.tenant_id, own_writes=self._own_writes
        )

    def _subscription_strategy(self) -> SubscriptionStrategy:
        return SQLAlchemySubscriptionStrategy(self._session, self._tables(), self._own_writes)

    def _outbox_strategy(self) -> OutboxStrategy:
        return SQLAlchemyOutboxStrategy(self._session, self._tables())

    def _checkpoint_strategy(self) -> CheckpointStrategy:
        return SQLAlchemyCheckpointStrategy(self._session, self._tables(), self._own_writes)

    def _key_storage(self) -> KeyStorage:
        return SQLAlchemyKeyStorage(self._session, self._tables())
