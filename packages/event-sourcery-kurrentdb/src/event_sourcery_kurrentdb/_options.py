"""What the sync and asyncio KurrentDB backends take and check alike: `OnClient`."""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from event_sourcery import BackendConfig, EventRegistry
from event_sourcery.exceptions import InvalidInput
from kurrentdbclient import AsyncKurrentDBClient, KurrentDBClient

from event_sourcery_kurrentdb._client import resolve_deadline
from event_sourcery_kurrentdb._errors import RetryPolicy

ClientT = TypeVar("ClientT", KurrentDBClient, AsyncKurrentDBClient)

DEFAULT_OUTBOX = "default"


class OnClient(Generic[ClientT]):
    """The constructor and `client` of a backend on a `kurrentdbclient` client; a backend
    class names its client class and the connection it wraps it in.

    The arguments are documented on `KurrentDBBackend`.
    """

    # The slots are the backend class's: two bases with slots of their own cannot be mixed.
    __slots__ = ()

    _client_class: ClassVar[type[Any]]
    _connection_class: ClassVar[type[Any]]
    _connection: Any
    _outbox_name: str

    def __init__(
        self,
        client: ClientT,
        *,
        registry: EventRegistry | None = None,
        config: BackendConfig | None = None,
        outbox_name: str = DEFAULT_OUTBOX,
        retry: RetryPolicy | None = None,
        deadline: float | None = None,
    ) -> None:
        super().__init__(registry=registry, config=config)  # type: ignore[call-arg]
        wanted = self._client_class.__name__
        if not isinstance(client, self._client_class):
            raise InvalidInput(
                f"client must be a kurrentdbclient.{wanted}, got {type(client).__name__}; "
                f'make one with {wanted}(uri="kurrentdb://host:2113") and pass that'
            )
        if not isinstance(outbox_name, str) or not outbox_name.strip():
            raise InvalidInput(f"outbox_name must be a non-empty str, got {outbox_name!r}")
        self._outbox_name = outbox_name  # type: ignore[misc]
        self._connection = self._connection_class(
            client, retry or RetryPolicy(), resolve_deadline(client, deadline)
        )

    @property
    def client(self) -> ClientT:
        """The client this backend talks through."""
        client: ClientT = self._connection.client
        return client
