"""Catch-up subscriptions to `$all`, filtered on the server, read by one thread per cursor.

The global position is KurrentDB's commit position (an int, strictly increasing; KurrentDB
commits in order, so there are no gaps to wait for). A cursor holds one catch-up subscription:

- server-side filter: the stream-name regex of the wanted categories and tenants, else the
  wanted event types, else the regex of all user streams (never the backend's own `es$...`);
- client-side: tenants, event types when categories were filtered, our own `$es-` records, and
  events of deleted streams: KurrentDB keeps a deleted stream's events in `$all` until a
  scavenge, so each batch reads the `$tb` (truncate-before) of the streams it touches;
- checkpoints and "caught up" move the cursor's position past events that did not match, so a
  projection's checkpoint advances even when nothing of interest happens.

`fetch` returns what was committed before it was called: until the subscription has caught up
once it waits for records (or the caught-up message); after that it never blocks.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from event_sourcery import StreamId
from event_sourcery.exceptions import StorageError
from event_sourcery.interfaces import (
    LogCursor,
    RecordedRaw,
    SubscriptionFilter,
    SubscriptionStrategy,
)
from kurrentdbclient import RecordedEvent
from kurrentdbclient.events import CaughtUp, Checkpoint

from event_sourcery_kurrentdb import _steps as steps
from event_sourcery_kurrentdb._client import Connection
from event_sourcery_kurrentdb._codec import metadata_of, to_raw
from event_sourcery_kurrentdb._errors import translate
from event_sourcery_kurrentdb._steps import Steps
from event_sourcery_kurrentdb._streams import (
    event_types_regex,
    parse_stream_name,
    stream_name,
    user_streams_regex,
)

#: Records buffered ahead of the reader; the server waits when the buffer is full.
BUFFER = 2000
#: Longest wait for the next record before the subscription has caught up.
_CATCH_UP_STALL = 60.0


@dataclass(frozen=True, slots=True)
class Failed:
    error: Exception


def server_filter(subscription_filter: SubscriptionFilter) -> tuple[str, bool]:
    """The regex KurrentDB filters with, and whether it applies to stream names.

    KurrentDB filters on stream names or on event types, not both: categories and tenants
    (stream names) win, as they usually narrow the log most.
    """
    categories, tenants = subscription_filter.categories, subscription_filter.tenants
    if categories is None and tenants is None and subscription_filter.event_types is not None:
        return event_types_regex(subscription_filter.event_types), False
    return user_streams_regex(categories, tenants), True


def to_record(event: RecordedEvent, subscription_filter: SubscriptionFilter) -> RecordedRaw | None:
    """The record of a user event passing the filter; None for anything else."""
    if event.type.startswith("$"):
        return None
    parsed = parse_stream_name(event.stream_name)
    if parsed is None:
        return None
    category, uuid, tenant = parsed
    wanted = subscription_filter
    if (
        (wanted.categories is not None and category not in wanted.categories)
        or (wanted.event_types is not None and event.type not in wanted.event_types)
        or (wanted.tenants is not None and tenant not in wanted.tenants)
    ):
        return None
    metadata = metadata_of(event)
    if metadata is None:
        return None
    stream_id = StreamId(uuid, name=metadata.get("name"), category=category)
    return RecordedRaw(to_raw(event, stream_id, metadata), event.commit_position, tenant)


class Reading:
    """What a cursor over a catch-up subscription decides, for the sync and asyncio cursors:
    which items it takes, where it stands, and which records a deleted stream hides."""

    __slots__ = ("caught_up", "filter", "position")

    def __init__(self, after: int, subscription_filter: SubscriptionFilter) -> None:
        self.filter = subscription_filter
        self.position = after
        self.caught_up = False

    def subscribe(self) -> Steps[Any]:
        """The subscription this reading reads (`_steps.subscribe`)."""
        include, by_stream_name = server_filter(self.filter)
        return steps.subscribe(self.position, include, by_stream_name=by_stream_name)

    @property
    def patience(self) -> float:
        """Seconds to wait for the next item: none once caught up (see the module)."""
        return 0 if self.caught_up else _CATCH_UP_STALL

    def take(self, item: Any, found: list[tuple[RecordedRaw, int]]) -> bool:
        """Take the subscription's next `item` (None: none came in `patience`) into `found`;
        False when the fetch ends here.

        Raises:
            StorageError: the subscription failed, or stalled while catching up.
        """
        if item is None:
            if not self.caught_up:
                raise StorageError(
                    f"the KurrentDB subscription sent nothing for {_CATCH_UP_STALL} s "
                    "while catching up"
                )
            return False
        if isinstance(item, Failed):
            raise translate(item.error, "reading a subscription") from item.error
        if isinstance(item, CaughtUp | Checkpoint):
            self.caught_up = self.caught_up or isinstance(item, CaughtUp)
            self.position = max(self.position, item.commit_position or 0)
        elif item.commit_position > self.position:  # not the start itself, nor sent again
            self.position = item.commit_position
            record = to_record(item, self.filter)
            if record is not None:
                found.append((record, item.stream_position))
        return True

    @staticmethod
    def kept(found: list[tuple[RecordedRaw, int]]) -> Steps[list[RecordedRaw]]:
        """The records of `found` whose stream was not deleted (or re-created) after they
        were written."""
        truncated: dict[str, int] = {}
        kept: list[RecordedRaw] = []
        for record, revision in found:
            stream = stream_name(record.raw.stream_id, record.tenant_id)
            if stream not in truncated:
                metadata, _ = yield from steps.metadata(stream)
                before = metadata.get("$tb")
                truncated[stream] = before if isinstance(before, int) else 0
            if revision >= truncated[stream]:
                kept.append(record)
        return kept


class KurrentDBLogCursor(LogCursor):
    """A catch-up subscription read by a daemon thread into a bounded buffer."""

    def __init__(
        self, connection: Connection, after: int, subscription_filter: SubscriptionFilter
    ) -> None:
        self._connection = connection
        self._reading = Reading(after, subscription_filter)
        self._closed = threading.Event()
        self._buffer: queue.Queue[Any] = queue.Queue(maxsize=BUFFER)
        self._stash: deque[Any] = deque()
        self._subscription = connection.run(self._reading.subscribe())
        self._thread = threading.Thread(
            target=self._pump, name="event-sourcery-kurrentdb-subscription", daemon=True
        )
        self._thread.start()

    def _pump(self) -> None:
        try:
            for item in self._subscription:
                if not self._put(item):
                    return
        except Exception as exc:
            if not self._closed.is_set():
                self._put(Failed(exc))

    def _put(self, item: Any) -> bool:
        while not self._closed.is_set():
            try:
                self._buffer.put(item, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def _next(self, timeout: float | None) -> Any:
        """The next item (None if none came within `timeout`; 0: do not wait)."""
        if self._stash:
            return self._stash.popleft()
        try:
            if timeout == 0:
                return self._buffer.get_nowait()
            return self._buffer.get(timeout=timeout)
        except queue.Empty:
            return None

    def fetch(self, limit: int) -> list[RecordedRaw]:
        found: list[tuple[RecordedRaw, int]] = []
        reading = self._reading
        while len(found) < limit and reading.take(self._next(reading.patience), found):
            pass
        return self._connection.run(reading.kept(found)) if found else []

    @property
    def position(self) -> int:
        return self._reading.position

    def wait(self, timeout: float) -> None:
        if self._stash:
            return
        item = self._next(timeout)
        if item is not None:
            self._stash.append(item)

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        with contextlib.suppress(Exception):  # it may be broken already
            self._subscription.stop()
        self._thread.join(timeout=2.0)


class KurrentDBSubscriptionStrategy(SubscriptionStrategy):
    """`SubscriptionStrategy` over `$all`."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def open(self, after: int, subscription_filter: SubscriptionFilter) -> LogCursor:
        return KurrentDBLogCursor(self._connection, after, subscription_filter)
