"""Events, their envelope (`WrappedEvent`) and the tracing context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic
from uuid import UUID

from pydantic import BaseModel, ConfigDict
from typing_extensions import TypeVar

from event_sourcery._frozen import positional_builder
from event_sourcery._readers import new_uuid
from event_sourcery._registry import default_registry


class Event(BaseModel):
    """Base class of domain events: a pydantic v2 model, immutable once created.

    The stored type name is `__event_name__` when a subclass sets it, else ``module.QualName``.
    Unknown fields in stored data are ignored on load, so removing a field never breaks reading.
    """

    # Events are stored as pydantic's own JSON text. Infinities and NaN are written as the
    # bare tokens json.dumps gives them, so that an append sees them and refuses them (JSON
    # has no such numbers; pydantic's default would store null, silently).
    model_config = ConfigDict(frozen=True, ser_json_inf_nan="constants")

    __event_name__: ClassVar[str]
    #: Bump when the stored form changes; register upcasters from older versions.
    __schema_version__: ClassVar[int] = 1
    #: Older names this class reads (kept after a rename).
    __event_aliases__: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        # Generic parametrisations (Model[int]) are not events of their own.
        if "[" not in cls.__name__:
            default_registry.add(cls)


class Context(BaseModel):
    """Metadata travelling with an event: correlation, causation and any extra fields."""

    model_config = ConfigDict(extra="allow", frozen=True)

    correlation_id: UUID | None = None
    causation_id: UUID | None = None


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


#: The context of events appended without one; shared, since contexts are immutable.
EMPTY_CONTEXT = Context()

#: The event class of a `WrappedEvent`, `Recorded`, `LoadedStream` or `Subscriber`; unnamed, it is
#: `Any` (so the bare names stay valid under ``mypy --strict``, as before they were generic).
TEvent = TypeVar("TEvent", bound=Event, default=Any)


@dataclass(frozen=True, slots=True)
class WrappedEvent(Generic[TEvent]):
    """An event with its envelope: uuid, version in its stream, creation time and context.

    `version` is None for events of a versionless stream (and before an append assigns it).
    A plain dataclass, not a pydantic model: thousands are built per stream load, and the
    event inside is validated already.
    """

    event: TEvent
    version: int | None = None
    uuid: UUID = field(default_factory=new_uuid)
    created_at: datetime = field(default_factory=utc_now)
    context: Context = EMPTY_CONTEXT

    @classmethod
    def wrap(
        cls,
        event: TEvent,
        version: int | None = None,
        *,
        uuid: UUID | None = None,
        created_at: datetime | None = None,
        context: Context | None = None,
    ) -> WrappedEvent[TEvent]:
        """Envelope `event`: a fresh uuid, now as created_at, and an empty context by default."""
        return cls(
            event,
            version,
            uuid or new_uuid(),
            created_at or utc_now(),
            context or EMPTY_CONTEXT,
        )


#: ``WrappedEvent(event, version, uuid, created_at, context)`` for values already checked, at
#: half the cost of the frozen dataclass's ``__init__`` (read paths build one per event).
build_wrapped: Callable[[Any, int | None, UUID, datetime, Context], WrappedEvent[Any]] = (
    positional_builder(WrappedEvent)
)
