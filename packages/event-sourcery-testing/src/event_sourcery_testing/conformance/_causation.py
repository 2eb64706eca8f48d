"""Tracing context: events appended while handling another are caused by it."""

from __future__ import annotations

from uuid import uuid4

from event_sourcery import Backend, Context, Recorded, StreamId, WrappedEvent, caused_by

from event_sourcery_testing.conformance._events import Deposited, Withdrawn
from event_sourcery_testing.conformance._hooks import Hooks
from event_sourcery_testing.conformance._support import catch_up, make_projector


class CausationContract(Hooks):
    """Correlation and causation ids flow through handlers."""

    def test_listener_appends_are_caused_by_the_handled_event(self, backend: Backend) -> None:
        category, follow_up = f"cause-{uuid4().hex}", StreamId()

        def react(record: Recorded) -> None:
            backend.event_store.append(Withdrawn(amount=1), stream_id=follow_up)

        backend.in_transaction.register(react, to=category)
        origin = WrappedEvent.wrap(Deposited(amount=1), context=Context(correlation_id=uuid4()))
        backend.event_store.append(origin, stream_id=StreamId(category=category))
        (caused,) = backend.event_store.load_stream(follow_up)
        assert caused.context.causation_id == origin.uuid
        assert caused.context.correlation_id == origin.context.correlation_id

    def test_first_event_of_a_flow_correlates_by_its_own_uuid(self, backend: Backend) -> None:
        origin = WrappedEvent.wrap(Deposited(amount=1))
        stream = StreamId()
        with caused_by(origin):
            backend.event_store.append(Withdrawn(amount=2), stream_id=stream)
            explicit = Context(correlation_id=uuid4())
            backend.event_store.append(
                WrappedEvent.wrap(Withdrawn(amount=3), context=explicit),
                stream_id=stream,
                expected_version=1,
            )
        first, second = backend.event_store.load_stream(stream)
        assert (first.context.correlation_id, first.context.causation_id) == (
            origin.uuid,
            origin.uuid,
        )
        assert second.context == explicit
        backend.event_store.append(Withdrawn(amount=4), stream_id=stream, expected_version=2)
        assert backend.event_store.load_stream(stream)[2].context == Context()

    def test_projection_appends_are_caused_by_the_projected_event(self, backend: Backend) -> None:
        category, follow_up = f"cause-{uuid4().hex}", StreamId()

        def project(record: Recorded) -> None:
            backend.event_store.append(Withdrawn(amount=1), stream_id=follow_up)

        origin = WrappedEvent.wrap(Deposited(amount=1))
        backend.event_store.append(origin, stream_id=StreamId(category=category))
        self.commit(backend)
        projector = make_projector(
            backend, name=f"p-{uuid4().hex}", handler=project, categories=[category]
        )
        catch_up(projector, lambda: self.commit(backend))
        (caused,) = backend.event_store.load_stream(follow_up)
        assert caused.context.causation_id == origin.uuid
