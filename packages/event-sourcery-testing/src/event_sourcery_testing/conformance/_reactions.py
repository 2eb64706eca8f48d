"""In-transaction listeners, the outbox and projections."""

from __future__ import annotations

import time
from typing import Any
from uuid import uuid4

import pytest
from event_sourcery import Backend, Event, Recorded, StreamId
from event_sourcery.exceptions import InvalidInput
from event_sourcery.interfaces import OutboxEntry

from event_sourcery_testing.conformance._events import Deposited, Withdrawn
from event_sourcery_testing.conformance._hooks import Hooks
from event_sourcery_testing.conformance._support import PATIENCE, catch_up, make_projector


class Boom(Exception):
    """Raised on purpose."""


class _Stop(BaseException):
    """Raised on purpose, like a KeyboardInterrupt: not an `Exception`."""


class SpecialDeposit(Deposited):
    """A subclass, to check that listeners match subclasses."""

    __event_name__ = "es_conformance.SpecialDeposit"


def _category() -> str:
    return f"react-{uuid4().hex}"


class ListenersContract(Hooks):
    """In-transaction listeners."""

    def test_listener_sees_events_with_positions(self, backend: Backend) -> None:
        seen: list[Recorded] = []
        backend.in_transaction.register(seen.append, to=Deposited)
        stream = StreamId(category=_category())
        backend.event_store.append(Deposited(amount=1), Withdrawn(amount=2), stream_id=stream)
        assert [r.wrapped_event.event for r in seen] == [Deposited(amount=1)]
        assert seen[0].position > 0
        assert seen[0].stream_id == stream
        assert seen[0].wrapped_event.version == 1

    def test_listener_matches_subclasses_and_categories_once(self, backend: Backend) -> None:
        seen: list[Event] = []

        def listener(record: Recorded) -> None:
            seen.append(record.wrapped_event.event)

        category = _category()
        backend.in_transaction.register(listener, to=Deposited)
        backend.in_transaction.register(listener, to=category)
        backend.in_transaction.register(listener, to=Deposited)
        backend.event_store.append(
            SpecialDeposit(amount=1), Withdrawn(amount=2), stream_id=StreamId(category=category)
        )
        backend.event_store.append(Withdrawn(amount=3), stream_id=StreamId(category=_category()))
        assert seen == [SpecialDeposit(amount=1), Withdrawn(amount=2)]

    def test_listener_error_propagates_and_rolls_back(self, backend: Backend) -> None:
        def explode(record: Recorded) -> None:
            raise Boom

        category = _category()
        backend.in_transaction.register(explode, to=category)
        stream = StreamId(category=category)
        with pytest.raises(Boom):
            backend.event_store.append(Deposited(amount=1), stream_id=stream)
        if self.capabilities.transactions:
            self.rollback(backend)
            assert backend.event_store.load_stream(stream) == []

    def test_unregistered_listener_is_not_called(self, backend: Backend) -> None:
        seen: list[Recorded] = []
        category = _category()
        backend.in_transaction.register(seen.append, to=category)
        backend.in_transaction.unregister(seen.append)
        backend.event_store.append(Deposited(amount=1), stream_id=StreamId(category=category))
        assert seen == []

    def test_bad_listener_registrations_are_rejected(self, backend: Backend) -> None:
        with pytest.raises(InvalidInput):
            backend.in_transaction.register("not callable", to=Deposited)  # type: ignore[arg-type]
        with pytest.raises(InvalidInput):
            backend.in_transaction.register(print, to=int)  # type: ignore[arg-type]


def _mine(category: str) -> Any:
    return lambda record: record.stream_id.category == category


class OutboxContract(Hooks):
    """The outbox: same transaction as the append, at-least-once, dead letters kept."""

    def _drain(self, backend: Backend, publisher: Any, category: str) -> list[Recorded]:
        """Run the outbox until it returns nothing, keeping what `category` produced."""
        published: list[Recorded] = []

        def publish(record: Recorded) -> None:
            publisher(record)
            published.append(record)

        while backend.outbox.run(publish, limit=50):
            self.commit(backend)
        self.commit(backend)
        return [r for r in published if r.stream_id.category == category]

    def test_appended_events_are_published_once(self, backend: Backend) -> None:
        category = _category()
        writer = backend.with_outbox(filterer=_mine(category))
        stream = StreamId(category=category)
        writer.event_store.append(Deposited(amount=1), Withdrawn(amount=2), stream_id=stream)
        self.commit(backend)
        published = self._drain(backend, lambda record: None, category)
        assert [r.wrapped_event.event for r in published] == [
            Deposited(amount=1),
            Withdrawn(amount=2),
        ]
        assert published[0].position < published[1].position
        assert self._drain(backend, lambda record: None, category) == []

    def test_counts_pending_entries_and_dead_letters(self, backend: Backend) -> None:
        category = _category()
        self._drain(backend, lambda record: None, category)  # nothing pending before this test
        box = backend.with_outbox(filterer=_mine(category), max_attempts=1)
        before = box.outbox.counts()
        assert before["pending"] == 0
        box.event_store.append(
            Deposited(amount=1), Deposited(amount=2), stream_id=StreamId(category=category)
        )
        self.commit(backend)
        assert box.outbox.counts() == {**before, "pending": 2}

        def fail(record: Recorded) -> None:
            raise Boom

        box.outbox.run(fail, limit=1000)
        self.commit(backend)

        counts = box.outbox.counts()
        self.commit(backend)
        assert counts == {"pending": 0, "dead_letters": before["dead_letters"] + 2}

    def test_filterer_decides_what_enters(self, backend: Backend) -> None:
        category = _category()

        def only_deposits(record: Recorded) -> bool:
            return record.stream_id.category == category and isinstance(
                record.wrapped_event.event, Deposited
            )

        writer = backend.with_outbox(filterer=only_deposits)
        writer.event_store.append(
            Deposited(amount=1), Withdrawn(amount=2), stream_id=StreamId(category=category)
        )
        self.commit(backend)
        published = self._drain(backend, lambda record: None, category)
        assert [r.wrapped_event.event for r in published] == [Deposited(amount=1)]

    def test_failures_are_retried_then_kept_as_dead_letters(self, backend: Backend) -> None:
        category = _category()
        writer = backend.with_outbox(filterer=_mine(category), max_attempts=2)
        writer.event_store.append(Deposited(amount=1), stream_id=StreamId(category=category))
        self.commit(backend)

        def fail_mine(record: Recorded) -> None:
            if record.stream_id.category == category:
                raise Boom("broker down")

        configured = backend.with_outbox(filterer=_mine(category), max_attempts=2)
        for _ in range(3):
            configured.outbox.run(fail_mine, limit=1000)
            self.commit(backend)
        dead = [
            e
            for e in configured.outbox.dead_letters(limit=1000)
            if e.record.raw.stream_id.category == category
        ]
        assert len(dead) == 1
        assert dead[0].attempts == 2
        assert dead[0].last_error == f"{__name__}.Boom"  # the type: a message may hold data
        assert self._drain(configured, lambda record: None, category) == []
        configured.outbox.retry(dead[0].id)
        self.commit(backend)
        assert [r.position for r in self._drain(configured, lambda r: None, category)] == [
            dead[0].record.position
        ]

    def _dead_letter(
        self, writer: Backend, error: Exception, category: str, worker: Backend | None = None
    ) -> OutboxEntry:
        """The dead letter left by one append to `category` whose publication raised `error`.

        `writer` appends; `worker` (default: `writer`) publishes and lists the dead letters;
        both need `max_attempts=1`.
        """
        worker = writer if worker is None else worker
        writer.event_store.append(Deposited(amount=1), stream_id=StreamId(category=category))
        self.commit(writer)

        def fail_mine(record: Recorded) -> None:
            if record.stream_id.category == category:
                raise error

        worker.outbox.run(fail_mine, limit=1000)
        self.commit(worker)
        (dead,) = [
            e
            for e in worker.outbox.dead_letters(1000)
            if e.record.raw.stream_id.category == category
        ]
        return dead

    def test_a_failure_keeps_the_error_type_never_its_message(self, backend: Backend) -> None:
        # Regression (issue 11, finding C): the message was stored verbatim, so event data in
        # it stayed readable in last_error (and the admin) after crypto-shredding.
        category = _category()
        configured = backend.with_outbox(filterer=_mine(category), max_attempts=1)
        dead = self._dead_letter(configured, ValueError("card 4111-1111-1111-1111"), category)
        assert dead.last_error == "ValueError"
        configured.outbox.purge(dead.id)
        self.commit(configured)

    def test_describe_error_decides_what_a_failure_keeps(self, backend: Backend) -> None:
        category = _category()

        def redacted(exc: Exception) -> str:
            return f"{type(exc).__name__}: {str(exc).replace('4111', '****')}" * 100

        configured = backend.with_outbox(
            filterer=_mine(category), max_attempts=1, describe_error=redacted
        )
        dead = self._dead_letter(configured, Boom("card 4111"), category)
        assert (dead.last_error or "").startswith("Boom: card ****")
        assert len(dead.last_error or "") == 1000
        configured.outbox.purge(dead.id)
        self.commit(configured)

    def test_a_failing_describe_error_keeps_the_type(self, backend: Backend) -> None:
        category = _category()

        def broken(exc: Exception) -> str:
            raise RuntimeError("the describer itself failed")

        configured = backend.with_outbox(
            filterer=_mine(category), max_attempts=1, describe_error=broken
        )
        dead = self._dead_letter(configured, Boom("secret"), category)
        assert dead.last_error == f"{__name__}.Boom"
        assert dead.attempts == 1
        configured.outbox.purge(dead.id)
        self.commit(configured)

    def test_outbox_administration_is_store_wide(self, backend: Backend) -> None:
        # Decision (issue 11, finding A): an outbox worker is an operator's process serving
        # the whole store, like a subscription; its tenant does not narrow what it sees.
        category = _category()
        writer = backend.in_tenant_mode(f"a-{uuid4().hex[:8]}").with_outbox(
            filterer=_mine(category), max_attempts=1
        )
        operator = backend.in_tenant_mode(f"b-{uuid4().hex[:8]}").with_outbox(
            filterer=_mine(category), max_attempts=1
        )
        dead = self._dead_letter(writer, Boom(), category, worker=operator)
        assert dead.record.tenant_id == writer.tenant_id
        operator.outbox.purge(dead.id)
        self.commit(backend)
        assert [
            e
            for e in writer.outbox.dead_letters(1000)
            if e.record.raw.stream_id.category == category
        ] == []

    def test_dead_letters_can_be_purged(self, backend: Backend) -> None:
        category = _category()
        configured = backend.with_outbox(filterer=_mine(category), max_attempts=1)
        dead = self._dead_letter(configured, Boom(), category)
        configured.outbox.purge(dead.id)
        self.commit(backend)
        configured.outbox.retry(dead.id)
        assert self._drain(configured, lambda record: None, category) == []

    def test_rolled_back_append_leaves_no_entry(self, backend: Backend) -> None:
        if not self.capabilities.transactions:
            return
        category = _category()
        writer = backend.with_outbox(filterer=_mine(category))
        writer.event_store.append(Deposited(amount=1), stream_id=StreamId(category=category))
        self.rollback(backend)
        assert self._drain(backend, lambda record: None, category) == []

    def _failing_runs(self, worker: Backend, category: str, runs: int) -> list[int]:
        """Run the outbox `runs` times failing every entry of `category`; the attempts each
        run made on them."""
        counts = []
        for _ in range(runs):
            tries = [0]

            def fail_mine(record: Recorded, tries: list[int] = tries) -> None:
                if record.stream_id.category == category:
                    tries[0] += 1
                    raise Boom("broker down")

            worker.outbox.run(fail_mine, limit=1000)
            self.commit(worker)
            counts.append(tries[0])
        return counts

    def _dead_of(self, worker: Backend, category: str) -> list[OutboxEntry]:
        return [
            e
            for e in worker.outbox.dead_letters(limit=1000)
            if e.record.raw.stream_id.category == category
        ]

    def test_an_entry_is_tried_exactly_max_attempts_times(self, backend: Backend) -> None:
        category = _category()
        worker = backend.with_outbox(filterer=_mine(category), max_attempts=2)
        worker.event_store.append(Deposited(amount=1), stream_id=StreamId(category=category))
        self.commit(worker)
        assert self._failing_runs(worker, category, 1) == [1]
        assert self._dead_of(worker, category) == []  # one failure left: not dead yet
        assert self._failing_runs(worker, category, 3) == [1, 0, 0]
        (dead,) = self._dead_of(worker, category)
        assert dead.attempts == 2
        worker.outbox.purge(dead.id)
        self.commit(worker)

    def test_retry_restores_every_attempt(self, backend: Backend) -> None:
        category = _category()
        worker = backend.with_outbox(filterer=_mine(category), max_attempts=2)
        worker.event_store.append(Deposited(amount=1), stream_id=StreamId(category=category))
        self.commit(worker)
        self._failing_runs(worker, category, 2)
        (dead,) = self._dead_of(worker, category)
        worker.outbox.retry(dead.id)
        self.commit(worker)
        assert self._dead_of(worker, category) == []
        assert self._failing_runs(worker, category, 3) == [1, 1, 0]
        (again,) = self._dead_of(worker, category)
        assert (again.id, again.attempts) == (dead.id, 2)
        worker.outbox.purge(dead.id)
        self.commit(worker)

    def test_interrupted_run_leaves_its_entries_to_the_next(self, backend: Backend) -> None:
        # A BaseException (KeyboardInterrupt, a worker's shutdown) is no failure of the
        # publisher: no attempt is counted, and the entries claimed but not published are
        # handed back, so the next run publishes them (a claim left behind would hide them).
        category = _category()
        writer = backend.with_outbox(filterer=_mine(category), max_attempts=1)
        stream = StreamId(category=category)
        writer.event_store.append(Deposited(amount=1), Withdrawn(amount=2), stream_id=stream)
        self.commit(writer)

        def stop_at_mine(record: Recorded) -> None:
            if record.stream_id.category == category:
                raise _Stop

        with pytest.raises(_Stop):
            writer.outbox.run(stop_at_mine, limit=1000)
        if self.capabilities.transactions:
            self.rollback(writer)  # the worker's transaction ends with it
        published = self._drain(writer, lambda record: None, category)
        assert [r.wrapped_event.event for r in published] == [
            Deposited(amount=1),
            Withdrawn(amount=2),
        ]
        assert self._dead_of(writer, category) == []

    def test_bad_outbox_arguments_are_rejected(self, backend: Backend) -> None:
        with pytest.raises(InvalidInput):
            backend.with_outbox(max_attempts=0)
        with pytest.raises(InvalidInput):
            backend.outbox.run(lambda record: None, limit=0)
        with pytest.raises(InvalidInput):
            backend.outbox.retry("1")  # type: ignore[arg-type]


class ProjectionsContract(Hooks):
    """Projections with checkpoints in the read model's transaction."""

    def test_projection_applies_each_event_once(self, backend: Backend) -> None:
        category, totals = _category(), {"sum": 0}

        def apply(record: Recorded) -> None:
            totals["sum"] += record.wrapped_event.event.amount

        name = f"proj-{uuid4().hex}"
        projector = make_projector(backend, name=name, handler=apply, categories=[category])
        stream = StreamId(category=category)
        backend.event_store.append(Deposited(amount=1), Deposited(amount=2), stream_id=stream)
        self.commit(backend)
        assert catch_up(projector, lambda: self.commit(backend), limit=1) == 2
        assert totals["sum"] == 3
        backend.event_store.append(Deposited(amount=4), stream_id=stream, expected_version=2)
        self.commit(backend)
        catch_up(projector, lambda: self.commit(backend))
        assert totals["sum"] == 7
        assert projector.position >= 3
        self.commit(backend)

    def test_checkpoints_are_listed_by_name(self, backend: Backend) -> None:
        category, name = _category(), f"proj-{uuid4().hex}"
        stream = StreamId(category=category)
        backend.event_store.append(Deposited(amount=1), Deposited(amount=2), stream_id=stream)
        self.commit(backend)
        assert name not in backend.projection_checkpoints()
        projector = make_projector(
            backend, name=name, handler=lambda _: None, categories=[category]
        )
        catch_up(projector, lambda: self.commit(backend))

        listed = backend.projection_checkpoints()

        self.commit(backend)
        assert listed[name] == projector.position
        assert listed[name] > 0
        assert list(listed) == sorted(listed)

    def test_rebuild_from_zero_replays_everything(self, backend: Backend) -> None:
        category = _category()
        seen: list[Recorded] = []
        projector = make_projector(
            backend, name=f"proj-{uuid4().hex}", handler=seen.append, categories=[category]
        )
        backend.event_store.append(Deposited(amount=1), stream_id=StreamId(category=category))
        self.commit(backend)
        catch_up(projector, lambda: self.commit(backend))
        projector.reset()
        self.commit(backend)
        catch_up(projector, lambda: self.commit(backend))
        assert len(seen) == 2
        assert seen[0].position == seen[1].position

    def test_failed_handler_applies_nothing_and_keeps_checkpoint(self, backend: Backend) -> None:
        category, name = _category(), f"proj-{uuid4().hex}"
        backend.event_store.append(Deposited(amount=1), stream_id=StreamId(category=category))
        self.commit(backend)

        def explode(record: Recorded) -> None:
            raise Boom

        failing = make_projector(backend, name=name, handler=explode, categories=[category])
        deadline = time.monotonic() + PATIENCE
        with pytest.raises(Boom):
            # A run that applied nothing waits at an older gap (see `PATIENCE`): again.
            while not failing.run_once():
                assert time.monotonic() < deadline, "the event never reached the projector"
        if self.capabilities.transactions:
            self.rollback(backend)
        seen: list[Recorded] = []
        catch_up(
            make_projector(backend, name=name, handler=seen.append, categories=[category]),
            lambda: self.commit(backend),
        )
        assert len(seen) == 1
