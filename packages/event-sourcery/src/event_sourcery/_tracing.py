"""Tracing context: causation flows from the event being handled to the events it causes.

While a listener, projection handler or outbox publisher handles an event (or user code runs
inside `caused_by(...)`), events appended without a context of their own get
causation = that event's uuid and its correlation id (or its uuid, if it had none).

`Instrumentation` is the hook for span-based tracing (OpenTelemetry in
`event_sourcery.opentelemetry`); the default does nothing and costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import Any

from event_sourcery._event import Context, WrappedEvent

_cause: ContextVar[WrappedEvent[Any] | None] = ContextVar("event_sourcery_cause", default=None)


def context_caused_by(cause: WrappedEvent[Any]) -> Context:
    """The context of an event caused by `cause`."""
    return Context(
        correlation_id=cause.context.correlation_id or cause.uuid, causation_id=cause.uuid
    )


@contextmanager
def caused_by(cause: WrappedEvent[Any]) -> Iterator[None]:
    """Inside this block, appended events without a context are caused by `cause`."""
    token = _cause.set(cause)
    try:
        yield
    finally:
        _cause.reset(token)


def ambient_context() -> Context | None:
    """The context for an event appended now without one, if something is being handled."""
    cause = _cause.get()
    return None if cause is None else context_caused_by(cause)


class Instrumentation:
    """Span hooks around appends, loads and event handling; the default does nothing."""

    def span(self, name: str, attributes: Mapping[str, Any]) -> AbstractContextManager[Any]:
        """A span around an operation of the library."""
        return nullcontext()

    def carrier(self) -> dict[str, str]:
        """The current trace context, to store with appended events ({} for none)."""
        return {}

    def handling(self, carrier: Mapping[str, str], name: str) -> AbstractContextManager[Any]:
        """A span for handling an event whose stored trace context is `carrier`."""
        return nullcontext()


NO_INSTRUMENTATION = Instrumentation()
