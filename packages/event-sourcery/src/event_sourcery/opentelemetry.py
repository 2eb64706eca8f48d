"""OpenTelemetry spans and trace propagation (the `opentelemetry` extra).

`backend.with_instrumentation(OpenTelemetry())` wraps appends and loads in spans, stores the
current trace context with every appended event, and continues that trace when the event is
published from the outbox or applied by a projection.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

from event_sourcery._tracing import Instrumentation

try:
    from opentelemetry import propagate, trace
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "event_sourcery.opentelemetry needs opentelemetry-api: "
        "pip install 'event-sourcery[opentelemetry]'"
    ) from None


class OpenTelemetry(Instrumentation):
    """Spans through the global (or a given) tracer provider; W3C trace context in events."""

    def __init__(self, tracer_provider: trace.TracerProvider | None = None) -> None:
        self._tracer = trace.get_tracer("event_sourcery", tracer_provider=tracer_provider)

    def span(self, name: str, attributes: Mapping[str, Any]) -> AbstractContextManager[Any]:
        return self._tracer.start_as_current_span(name, attributes=dict(attributes))

    def carrier(self) -> dict[str, str]:
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        return carrier

    def handling(self, carrier: Mapping[str, str], name: str) -> AbstractContextManager[Any]:
        parent = propagate.extract(dict(carrier))
        return self._tracer.start_as_current_span(
            name, context=parent, kind=trace.SpanKind.CONSUMER
        )
