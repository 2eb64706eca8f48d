"""OpenTelemetry: spans around append, load and publish; trace context stored and restored."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from event_sourcery import Event, Recorded, StreamId
from event_sourcery.opentelemetry import OpenTelemetry
from event_sourcery_testing import InMemoryBackend
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


class Shipped(Event):
    __event_name__ = "otel_test.Shipped"
    parcel: str


@pytest.fixture
def spans() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


def test_append_load_and_publish_are_traced_end_to_end(
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, exporter = spans
    backend = InMemoryBackend().with_instrumentation(OpenTelemetry(provider)).with_outbox()
    stream = StreamId(category="parcel")
    backend.event_store.append(Shipped(parcel="p-1"), stream_id=stream)
    (loaded,) = backend.event_store.load_stream(stream)
    published: list[Recorded] = []
    assert backend.outbox.run(published.append) == 1

    finished = {span.name: span for span in exporter.get_finished_spans()}
    append = finished["event_sourcery.append"]
    assert finished["event_sourcery.load_stream"].attributes["event_sourcery.category"] == "parcel"
    publish = finished["event_sourcery.publish"]
    assert publish.context.trace_id == append.context.trace_id
    assert publish.parent is not None
    assert publish.parent.span_id == append.context.span_id
    trace = (loaded.context.model_extra or {})["trace"]
    assert trace["traceparent"].split("-")[1] == f"{append.context.trace_id:032x}"


def test_without_instrumentation_nothing_is_added_to_events() -> None:
    backend = InMemoryBackend()
    stream = StreamId()
    backend.event_store.append(Shipped(parcel="p-2"), stream_id=stream)
    assert backend.event_store.load_stream(stream)[0].context.model_extra == {}
