"""Gap-aware reading of the global log, and the settled position, as protocols (`_protocol`).

A poll reads the head of the log (the positions after the reader's, and the horizon), takes a
marker of the transactions in flight when a gap opens and tells when they have ended (the
flavour's queries), lets `GapTracker` decide how far it may deliver, then reads the rows the
filter selects up to there, in one query filtered in SQL. A reader that keeps up therefore
never skips an event committed late by a slow transaction, and never waits on a timer: it
waits until the transactions that could still fill a gap have ended.

Drivers run these on a connection of the reader's own, where each statement sees what
committed before it (autocommit or READ COMMITTED): a marker taken in a transaction that
began earlier could miss a transaction that began since.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from event_sourcery._raw import raw_from_text
from event_sourcery._readers import utc_from_text, uuid_from_hex
from event_sourcery._recorded import RecordedRaw, build_recorded_raw
from event_sourcery._stream_id import StoredStreamIds
from event_sourcery._subscription import SubscriptionFilter
from event_sourcery.exceptions import StorageError
from event_sourcery.sql._flavour import Flavour
from event_sourcery.sql._gaps import GapTracker
from event_sourcery.sql._inflight import LogHead, Marker
from event_sourcery.sql._protocol import Pause, Protocol, Statement

#: Positions read per poll to find gaps (ids only, from the primary key), when a filter may
#: leave most of them out; unfiltered, a poll reads as many as it may deliver.
PAGE = 2000
#: How long `LogReader.fetch` waits, with nothing to return, for a gap's transactions to end,
#: and how long it pauses between two looks.
GAP_PATIENCE, GAP_PAUSE = 1.0, 0.01
#: How long `settled_position` waits for transactions in flight before giving up, and how
#: long it pauses between two looks.
POSITION_TIMEOUT, POSITION_PAUSE = 30.0, 0.005


@dataclass(frozen=True, slots=True)
class OwnTransaction:
    """The transaction of the session that opened a reader: it must not wait for it.

    A projection loads (and locks) its checkpoint in its session's transaction and then reads
    the log, so that transaction cannot end before the read does. Its reader leaves it out of
    its markers, and instead never passes the lowest position it appended: those events are
    invisible to the reader's connection until the commit, and must not be skipped.
    """

    #: The server's id of the session (PostgreSQL's backend pid, MariaDB's connection id);
    #: 0 if unknown (the reader then waits for it like for any other).
    session: int = 0
    #: The lowest position the transaction appended, if it appended.
    lowest_position: int | None = None


NOBODY = OwnTransaction()


class LogReader:
    """One reader's place in the global log, read gap-free (see the module docstring).

    `fetch` is the protocol a driver runs per call of its cursor's own `fetch`.
    """

    def __init__(
        self,
        flavour: Flavour,
        after: int,
        subscription_filter: SubscriptionFilter,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._flavour = flavour
        self._tracker: GapTracker[Marker] = GapTracker(position=after)
        self._rows, self._values = flavour.log_rows(subscription_filter)
        flt = subscription_filter
        filtered = (flt.categories, flt.event_types, flt.tenants) != (None, None, None)
        self._page = PAGE if filtered else 0
        self._streams = StoredStreamIds()
        self._clock = clock
        #: The highest position the last head read saw.
        self._horizon = after

    @property
    def flavour(self) -> Flavour:
        """The flavour of the database read."""
        return self._flavour

    @property
    def position(self) -> int:
        """The position of the last record delivered (or passed over)."""
        return self._tracker.position

    @property
    def waiting(self) -> bool:
        """Whether a gap holds delivery back until transactions in flight end."""
        return self._tracker.waiting

    def fetch(self, limit: int, own: OwnTransaction = NOBODY) -> Protocol[list[RecordedRaw]]:
        """Up to `limit` records after the position, gap-free.

        With nothing to return but a gap in the way, it waits a little (`GAP_PATIENCE`) for
        the transactions that hold it, which are usually about to commit. An empty answer
        therefore means "nothing to deliver now": caught up, or still behind a transaction
        that stayed open longer than that (on MariaDB, any read-write transaction of the
        server). Nothing is skipped: the next fetch delivers what that transaction held.
        """
        tracker = self._tracker
        found: list[RecordedRaw] = []
        patience: float | None = None
        while len(found) < limit:
            before = tracker.position
            found.extend((yield from self._poll(limit - len(found), own)))
            if tracker.position != before:
                if tracker.position >= self._horizon:
                    break  # everything the last read saw is delivered: no need to look again
                continue
            if found or not tracker.waiting:
                break
            now = self._clock()
            patience = patience or now + GAP_PATIENCE
            if now >= patience:
                break
            yield Pause(GAP_PAUSE)
        return found

    def _poll(self, limit: int, own: OwnTransaction) -> Protocol[list[RecordedRaw]]:
        tracker = self._tracker
        bound = yield from self._bound(limit, own.session)
        if own.lowest_position is not None:
            # The opener's own uncommitted events: invisible here, never to be skipped.
            bound = min(bound, own.lowest_position - 1)
        if bound <= tracker.position:
            return []
        outcome = yield Statement(self._rows, (tracker.position, bound, *self._values, limit))
        records = self._records(outcome.rows)
        tracker.advance(records[-1].position if len(records) == limit else bound)
        return records

    def _bound(self, limit: int, exclude: int) -> Protocol[int]:
        """How far this poll may deliver (see `event_sourcery.sql._gaps`)."""
        tracker, flavour = self._tracker, self._flavour
        if not flavour.log_judged_by_head:
            # Before the read, so that the read shows what those transactions committed.
            yield from self._confirm(None, exclude)
        if tracker.settled > tracker.position:
            return tracker.settled  # every gap up there is final: no need to look
        outcome = yield flavour.log_head(tracker.position, self._page or limit)
        head = flavour.read_log_head(outcome.rows)
        self._horizon = max(self._horizon, head.horizon)
        if flavour.log_gaps_final:
            return max(tracker.position, head.horizon)
        if flavour.log_judged_by_head:
            yield from self._confirm(head, exclude)
        bound = yield from self._safe_bound(head, exclude)
        if flavour.log_judged_by_head and tracker.waiting:
            # A marker with nothing in flight (by the same read) settles its gaps at once.
            yield from self._confirm(head, exclude)
            bound = yield from self._safe_bound(head, exclude)
        return bound

    def _confirm(self, head: LogHead | None, exclude: int) -> Protocol[None]:
        tracker = self._tracker
        if tracker.waiting:
            left = yield from self._flavour.still_in_flight(tracker.marker, head, exclude)
            tracker.confirm(lambda _: left is not None and not left)

    def _safe_bound(self, head: LogHead, exclude: int) -> Protocol[int]:
        tracker = self._tracker
        marker: Marker = None
        if tracker.opens_gap(head.ids):
            marker = yield from self._flavour.take_marker(head, exclude)
        return tracker.safe_bound(head.ids, lambda: marker, horizon=head.horizon)

    def _records(self, rows: Sequence[Any]) -> list[RecordedRaw]:
        # One loop, every lookup hoisted: per event, this is most of a catch-up's own work.
        uuid_, time_, stream_of = uuid_from_hex, utc_from_text, self._streams.get
        return [
            build_recorded_raw(
                raw_from_text(
                    uuid_(uuid),
                    stream_of(stream, name, category or None, uuid_),
                    type_,
                    version,
                    time_(created_at),
                    data if data.__class__ is str else _text(data),
                    context if context.__class__ is str else _text(context),
                    schema,
                ),
                position,
                tenant or None,
            )
            # In `Flavour.log_rows`' column order.
            for (
                position,
                tenant,
                category,
                stream,
                name,
                version,
                uuid,
                type_,
                schema,
                data,
                context,
                created_at,
            ) in rows
        ]


def _text(value: Any) -> Any:
    """JSON as text, from what a driver returned (MariaDB's may return bytes)."""
    return bytes(value).decode() if isinstance(value, bytes | bytearray | memoryview) else value


def settled_position(
    flavour: Flavour, *, clock: Callable[[], float] = time.monotonic
) -> Protocol[int]:
    """In the caller's transaction: the newest position such that nothing lower can still
    appear. Waits for the other transactions in flight (not the caller's own); `StorageError`
    if they have not ended within `POSITION_TIMEOUT`."""
    outcome = yield flavour.position_now()
    position, session, head = flavour.read_position_now(outcome.rows)
    if flavour.log_gaps_final:
        return position
    marker = yield from flavour.take_marker(head, session)
    started = clock()
    while marker is None or marker:
        if clock() - started > POSITION_TIMEOUT:
            waiting = "unknown" if marker is None else ", ".join(map(str, sorted(marker)))
            raise StorageError(
                f"Transactions in flight did not end within {POSITION_TIMEOUT:.0f} s "
                f"({flavour.name} transactions {waiting}); the position is only safe once they "
                "have. Is one of them waiting for a lock held by this session's transaction? "
                "Commit or roll back, then ask again."
            )
        marker = yield from flavour.still_in_flight(marker, None, session)
        if marker is None or marker:
            yield Pause(POSITION_PAUSE)
    return position
