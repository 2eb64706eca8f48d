"""The configuration every backend carries, sync or asyncio, and the methods that copy it."""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Self, TypeVar

from event_sourcery._async_encryption import shred
from event_sourcery._encryption import Encryption, EncryptionStrategy, KeyStorage
from event_sourcery._limits import check_tenant_id
from event_sourcery._listeners import InTransactionListeners
from event_sourcery._outbox import ErrorDescriber, Filterer, OutboxConfig
from event_sourcery._registry import EventRegistry, default_registry
from event_sourcery._tracing import NO_INSTRUMENTATION, Instrumentation
from event_sourcery.exceptions import InvalidInput


@dataclass(frozen=True, slots=True)
class BackendConfig:
    """Backend-independent options, made once and shared by every backend built with them.

    Build one at start-up and pass it to each per-session backend
    (`SQLAlchemyBackend(session, config=config)`): listeners registered on
    `config.listeners` then apply to all of them. New features add fields with defaults here,
    so existing code keeps working.

    Attributes:
        registry: maps event classes to stored names.
        tenant_id: the tenant a backend is scoped to; None for the default context.
        listeners: in-transaction listeners.
        outbox: what enters the outbox on append; None: the outbox is not written to.
        encryption: crypto-shredding of `Encrypted` fields; None: no encryption.
        instrumentation: span hooks (`event_sourcery.opentelemetry.OpenTelemetry()`).
    """

    registry: EventRegistry = field(default=default_registry)
    tenant_id: str | None = None
    listeners: InTransactionListeners = field(default_factory=InTransactionListeners)
    outbox: OutboxConfig | None = None
    encryption: EncryptionConfig | None = None
    instrumentation: Instrumentation = NO_INSTRUMENTATION

    def __post_init__(self) -> None:
        if self.tenant_id is not None:
            check_tenant_id(self.tenant_id)
        if not isinstance(self.registry, EventRegistry):
            raise InvalidInput("registry must be an EventRegistry")


@dataclass(frozen=True, slots=True)
class EncryptionConfig:
    """The cipher, and the key storage (None: the backend's own table or stream)."""

    strategy: EncryptionStrategy
    key_storage: KeyStorage | None = None


class TenantEncryption:
    """Crypto-shredding for one tenant of a backend (`backend.encryption`)."""

    __slots__ = ("_encryption", "_tenant_id")

    def __init__(self, encryption: Encryption, tenant_id: str | None) -> None:
        self._encryption = encryption
        self._tenant_id = tenant_id

    def shred(self, subject_id: str) -> None:
        """Make every encrypted field of this data subject unreadable, for good. Idempotent.

        Deletes the subject's keys in the backend's current transaction: commit it.
        """
        self._encryption.shred(subject_id, tenant_id=self._tenant_id)

    async def ashred(self, subject_id: str) -> None:
        """`shred`, awaited: the one to call on an asyncio backend (whose keys are awaited)."""
        await shred(self._encryption, subject_id, self._tenant_id)


T = TypeVar("T")


class Configured(ABC):
    """A backend's options and the `with_*` methods making configured copies of it.

    The base of `Backend` and `AsyncBackend`, so both are configured the same way by the
    same code. Construction stores references only.
    """

    __slots__ = ("_config", "_event_store")

    def __init__(
        self, *, registry: EventRegistry | None = None, config: BackendConfig | None = None
    ) -> None:
        if config is None:
            config = BackendConfig(registry=registry or default_registry)
        elif registry is not None:
            config = replace(config, registry=registry)
        self._config = config
        self._event_store: Any = None

    @abstractmethod
    def _key_storage(self) -> KeyStorage:
        """The backend's own storage of encryption keys, in its current transaction."""

    def _encryption(self) -> Encryption | None:
        """The configured encryption bound to its key storage, or None."""
        settings = self._config.encryption
        if settings is None:
            return None
        keys = settings.key_storage if settings.key_storage is not None else self._key_storage()
        return Encryption(settings.strategy, keys)

    def _made_store(self, make: Callable[..., T], storage: object, outbox: Callable[[], Any]) -> T:
        """`make` (an event store class) over `storage`, with this backend's configuration;
        `outbox()` is the outbox port, asked for only when an outbox is configured."""
        config = self._config
        return make(
            storage,
            config.registry,
            listeners=config.listeners,
            outbox=(outbox(), config.outbox) if config.outbox else None,
            encryption=self._encryption(),
            instrumentation=config.instrumentation,
        )

    def _made_outbox(self, make: Callable[..., T], strategy: object) -> T:
        """`make` (`Outbox` or `AsyncOutbox`) over the outbox port `strategy`, with this
        backend's outbox options (the defaults without `with_outbox`)."""
        config = self._config
        outbox = config.outbox or OutboxConfig()
        return make(strategy, outbox, config.registry, self._encryption(), config.instrumentation)

    def _with_config(self, config: BackendConfig) -> Self:
        """A copy of this backend over the same connection/session, with `config`.

        Subclasses keep their connection/session attributes; the copy shares them.
        """
        clone = copy.copy(self)
        clone._config = config
        clone._event_store = None
        return clone

    @property
    def config(self) -> BackendConfig:
        """The options this backend was made with."""
        return self._config

    @property
    def tenant_id(self) -> str | None:
        """The tenant this backend is scoped to; None for the default (tenant-less) context."""
        return self._config.tenant_id

    @property
    def in_transaction(self) -> InTransactionListeners:
        """Register listeners called inside the append's transaction."""
        return self._config.listeners

    @property
    def encryption(self) -> TenantEncryption:
        """Crypto-shredding for this backend's tenant (see `with_encryption`)."""
        encryption = self._encryption()
        if encryption is None:
            raise InvalidInput("encryption is not configured: use backend.with_encryption(...)")
        return TenantEncryption(encryption, self.tenant_id)

    def with_encryption(
        self, *, strategy: EncryptionStrategy, key_storage: KeyStorage | None = None
    ) -> Self:
        """A copy that stores `Encrypted` fields encrypted, with keys per data subject.

        Args:
            strategy: the cipher, e.g. `AesGcmEncryption()`.
            key_storage: where keys live; by default the backend's own table or stream.
        """
        if not isinstance(strategy, EncryptionStrategy):
            raise InvalidInput("strategy must be an EncryptionStrategy, e.g. AesGcmEncryption()")
        if key_storage is not None and not isinstance(key_storage, KeyStorage):
            raise InvalidInput("key_storage must be a KeyStorage")
        encryption = EncryptionConfig(strategy=strategy, key_storage=key_storage)
        return self._with_config(replace(self._config, encryption=encryption))

    def with_outbox(
        self,
        *,
        filterer: Filterer | None = None,
        max_attempts: int | None = None,
        describe_error: ErrorDescriber | None = None,
    ) -> Self:
        """A copy whose appends put every event passing `filterer` into the outbox.

        Args:
            filterer: which events enter the outbox (default: all).
            max_attempts: failures before an entry is a dead letter (default 3).
            describe_error: the text kept as an entry's `last_error` for a publisher's
                exception (default: its type only, since a message may quote event data).
        """
        outbox = OutboxConfig(filterer=filterer)
        if max_attempts is not None:
            outbox = replace(outbox, max_attempts=max_attempts)
        if describe_error is not None:
            outbox = replace(outbox, describe_error=describe_error)
        return self._with_config(replace(self._config, outbox=outbox))

    def with_instrumentation(self, instrumentation: Instrumentation) -> Self:
        """A copy that reports spans through `instrumentation` (e.g. OpenTelemetry)."""
        if not isinstance(instrumentation, Instrumentation):
            raise InvalidInput("instrumentation must be an event_sourcery Instrumentation")
        return self._with_config(replace(self._config, instrumentation=instrumentation))

    def with_registry(self, registry: EventRegistry) -> Self:
        """A copy that maps event classes through `registry` instead of the current one."""
        return self._with_config(replace(self._config, registry=registry))

    def in_tenant_mode(self, tenant_id: str) -> Self:
        """A copy scoped to `tenant_id`: it sees only that tenant's streams."""
        return self._with_config(replace(self._config, tenant_id=check_tenant_id(tenant_id)))

    def without_tenant(self) -> Self:
        """A copy scoped to the default (tenant-less) context."""
        return self._with_config(replace(self._config, tenant_id=None))
