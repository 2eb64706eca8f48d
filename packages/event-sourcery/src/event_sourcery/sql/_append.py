"""One append, decided once for every SQL driver: claim the stream row, then insert the events.

A sans-I/O protocol (see `_protocol`): `append_events` yields the statements and a driver runs
them. The normal case is two statements whatever the number of events (one where the flavour
`appends_at_once`): a claim of the stream row that checks and moves its version in one
conditional statement (optimistic concurrency without a read), and one multi-row INSERT of the
events. The stream is read only when the claim matches no row (the slow path), to raise the
exact error, to recognise a re-sent append, to bind a name or to create the stream.

The stream row is always written (or share-locked) BEFORE the events draw their positions:
that gives the transaction its id before any position is drawn, which the gap rule of
subscriptions relies on (see `_gaps`). Keep that order.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any, Literal, NamedTuple

from event_sourcery._raw import RawEvent
from event_sourcery._stream_id import StreamId
from event_sourcery._versioning import (
    MISSING,
    NO_VERSIONING,
    VERSIONLESS,
    ExpectedVersion,
    StreamState,
    check_append,
    check_name,
    is_repeat,
)
from event_sourcery.exceptions import ConcurrentStreamWriteError, StorageError
from event_sourcery.sql._driver_errors import violates_event_id_index
from event_sourcery.sql._errors import SQLErrors
from event_sourcery.sql._flavour import MAX_VERSION, Flavour
from event_sourcery.sql._protocol import Outcome, Protocol, Statement

# The slow path looks again when a concurrent writer changed the stream row between its read
# and its conditional write; that takes a writer committing in exactly that gap, so it is rare.
_ATTEMPTS = 3

#: Steps of the protocol that yield statements (no pauses), ending with a stream row's id...
_Id = Generator[Statement, Outcome, int]
#: ... or with None when the claim they tried matched no row.
_MaybeId = Generator[Statement, Outcome, int | None]


class AtOnce(NamedTuple):
    """The claim an append makes with its events' INSERT (`Flavour.append_at_once`).

    `kind`: ``create`` (expected version 0), ``bump`` (expected n > 0) or ``versionless``
    (creates the stream if it is missing). `params`: the claim's, in the order of
    `Flavour.create_stream` (create), `Flavour.bump` (bump), or tenant, category, uuid, name
    (versionless). `named`: whether a bump or versionless claim also matches the name.
    """

    kind: Literal["create", "bump", "versionless"]
    named: bool
    params: Sequence[Any]


def state_of(row: Sequence[Any] | None) -> StreamState:
    """The state `check_append` / `check_snapshot` take, from an (id, version, name) row."""
    if row is None:
        return MISSING
    return VERSIONLESS if row[1] is None else int(row[1])


def append_events(
    flavour: Flavour,
    errors: SQLErrors,
    tenant: str,
    stream_id: StreamId,
    expected: ExpectedVersion,
    events: Sequence[RawEvent],
) -> Protocol[list[int]]:
    """The protocol of one append of `events` (at least one) at `expected` to `stream_id`.

    Returns the events' positions, in order. Raises what `check_append` / `check_name` raise
    for a stream in the wrong state, `ConcurrentStreamWriteError` when concurrent writers kept
    winning, and lets a database error it does not expect out unchanged (the driver's
    backend translates it, `SQLErrors.translate_append`). A re-sent append already stored
    returns the positions it got then. Where a failed statement leaves the transaction open,
    events refused for a taken event id leave nothing of the append behind.

    Args:
        flavour: the database's SQL for the backend's tables.
        errors: tells which thrown errors are duplicate keys (`SQLErrors.is_duplicate_key`).
        tenant: the tenant's id ('' for none).
    """
    return _Append(flavour, errors, tenant, stream_id, expected, events).run()


class _Repeat(Exception):
    """The append was stored before; carries the positions it got then."""

    def __init__(self, positions: list[int]) -> None:
        super().__init__()
        self.positions = positions


class _Append:
    __slots__ = (
        "bound_name",
        "created",
        "errors",
        "events",
        "expected",
        "flavour",
        "inserted",
        "key",
        "stream_id",
        "tenant",
        "version",
    )

    def __init__(
        self,
        flavour: Flavour,
        errors: SQLErrors,
        tenant: str,
        stream_id: StreamId,
        expected: ExpectedVersion,
        events: Sequence[RawEvent],
    ) -> None:
        self.flavour = flavour
        self.errors = errors
        self.tenant = tenant
        self.stream_id = stream_id
        self.expected = expected
        self.events = events
        self.version = events[-1].version  # the stream's version after the append
        self.key = [tenant, stream_id.category or "", flavour.bind_uuid(stream_id.uuid)]
        # What the claim did, to take it back if the events are refused (`_undo_claim`).
        self.created = False
        self.bound_name = False
        self.inserted: list[int] = []  # positions of the events inserted so far

    def run(self) -> Protocol[list[int]]:
        """Store the events; their positions, in order."""
        fits = self.version is None or self.version <= MAX_VERSION
        carried = 0  # events inserted with the claim
        try:
            if self.flavour.appends_at_once and fits:
                at_once, carried = yield from self._at_once()
                stream_pk: int = at_once if at_once is not None else (yield from self._after_miss())
            else:
                stream_pk = yield from self._claim()
        except _Repeat as repeat:
            return repeat.positions
        if carried < len(self.events):
            yield from self._insert_guarded(stream_pk, self.events[carried:])
        return self.inserted

    # --- the fast paths --------------------------------------------------------------------

    def _at_once(self) -> Generator[Statement, Outcome, tuple[int | None, int]]:
        """Claim and insert in one statement: the stream row's id (None if the claim matched
        no row, and nothing was inserted) and how many events went with it."""
        name, expected = self.stream_id.name, self.expected
        claim: AtOnce
        if expected is NO_VERSIONING:
            claim = AtOnce("versionless", name is not None, [*self.key, name])
        elif expected == 0:
            claim = AtOnce("create", False, [*self.key, name, self.version])
        else:
            params = [self.version, *self.key, expected] + ([] if name is None else [name])
            claim = AtOnce("bump", name is not None, params)
        statement, carried = self.flavour.append_at_once(claim, self.tenant, self.events)
        rows = (yield statement).rows
        if not rows:
            return None, 0
        # Ids are drawn in the events' order: sorted, they are the events' positions.
        self.inserted = sorted(int(row[0]) for row in rows)
        return int(rows[0][1]), carried

    def _after_miss(self) -> _Id:
        """The one-statement claim matched nothing: create a missing versionless stream
        (created concurrently, or its name taken, meanwhile), else settle why."""
        if self.expected is NO_VERSIONING:
            created = yield from self._create()
            if created is not None:
                return created
        return (yield from self._claim_slowly())

    def _claim(self) -> _Id:
        """Check the stream's state and set its new version; return its row id."""
        expected = self.expected
        stream_pk: int | None = None
        if expected is NO_VERSIONING:
            stream_pk = yield from self._claim_versionless()
        elif expected == 0:
            stream_pk = yield from self._create()
        elif self.version is not None and self.version <= MAX_VERSION:
            stream_pk = yield from self._bump(expected)
        if stream_pk is None:
            stream_pk = yield from self._claim_slowly()
        return stream_pk

    def _claim_versionless(self) -> _MaybeId:
        """A versionless stream as it is, or created; None to take the slow path."""
        flavour, name = self.flavour, self.stream_id.name
        if flavour.touches_versionless:
            params = self.key if name is None else [*self.key, name]
            touched = flavour.claimed_id((yield Statement(flavour.touch(name is not None), params)))
            if touched is not None:
                return touched
        rows = (yield Statement(flavour.find_stream_locked, self.key)).rows
        if not rows:
            return (yield from self._create())
        row = rows[0]
        if row[1] is None and name in (None, row[2]):
            return int(row[0])
        return None

    def _create(self) -> _MaybeId:
        """Insert the stream row; its id, or None if the stream (or its name) exists."""
        flavour = self.flavour
        params = [*self.key, self.stream_id.name, self.version]
        try:
            outcome = yield Statement(flavour.create_stream, params)
        except self.errors.integrity as error:
            # Only where the statement fails alone (`Flavour.create_conflict_raises`).
            if flavour.create_conflict_raises and self.errors.is_duplicate_key(error):
                return None
            raise
        created = flavour.claimed_id(outcome)
        self.created = created is not None
        return created

    def _bump(self, expected: int) -> _MaybeId:
        """Move a versioned stream from `expected` to the new version; its row id, or None."""
        name = self.stream_id.name
        params = [self.version, *self.key, expected]
        if name is not None:
            params.append(name)
        # Concurrent writers queue on this row's lock; the loser's WHERE then no longer matches
        # (READ COMMITTED re-checks it on the new row; MariaDB's UPDATE reads the latest row).
        outcome = yield Statement(self.flavour.bump(name is not None), params)
        return self.flavour.claimed_id(outcome)

    # --- the slow path ---------------------------------------------------------------------

    def _claim_slowly(self) -> _Id:
        """Read the rows with locks; raise the exact error, or create / rewrite the stream row.

        Shared locks: the losers of a race all get here at once, and on MariaDB each already
        holds a shared lock from its duplicate key error; exclusive requests would deadlock.
        Two lookups, each on a unique key, lock one row each: one query with "uuid = ? OR
        name = ?" could make InnoDB lock every stream of the category.
        """
        state: StreamState = MISSING
        for _ in range(_ATTEMPTS):
            own = yield from self._read_own()
            state = state_of(own)
            if own is None:
                created = yield from self._create()
                if created is not None:
                    return created
                continue  # created concurrently: look again
            rewritten = yield from self._rewrite(own)
            if rewritten is not None:
                return rewritten
        if self.expected is NO_VERSIONING:
            raise StorageError(
                f"Stream {self.stream_id!r} kept changing under concurrent writers; retry the "
                "append."
            )
        raise ConcurrentStreamWriteError(
            self.stream_id, self.expected, state if isinstance(state, int) else None
        )

    def _read_own(self) -> Generator[Statement, Outcome, Sequence[Any] | None]:
        """The stream's row (id, version, name), checked against the append and its name."""
        flavour, stream_id = self.flavour, self.stream_id
        rows = (yield Statement(flavour.find_stream_locked, self.key)).rows
        own = rows[0] if rows else None
        holder = None
        if stream_id.name is not None:
            params = [self.tenant, stream_id.category or "", stream_id.name]
            found = (yield Statement(flavour.find_name_holder, params)).rows
            if found and flavour.read_uuid(found[0][0]) != stream_id.uuid:
                holder = flavour.read_uuid(found[0][0])
        try:
            check_append(stream_id, state_of(own), self.expected)
        except ConcurrentStreamWriteError:
            yield from self._repeat(own)
            raise
        check_name(stream_id, own[2] if own else None, holder)
        return own

    def _rewrite(self, own: Sequence[Any]) -> _MaybeId:
        """Set the new version (and bind the name) of the row `own` read; its id, or None if
        it changed since."""
        name = self.stream_id.name
        binds_name = name is not None and own[2] is None
        if self.expected is NO_VERSIONING and not binds_name:
            return int(own[0])  # as required already: nothing to change
        params = [self.version, name if binds_name else own[2], own[0]]
        if own[1] is not None:
            params.append(own[1])
        outcome = yield Statement(self.flavour.rewrite(own[1] is not None), params)
        if outcome.rowcount != 1:
            return None
        self.bound_name = binds_name
        return int(own[0])

    def _repeat(self, own: Sequence[Any] | None) -> Generator[Statement, Outcome, None]:
        """Raise `_Repeat` if this append is stored already: a re-send after a lost reply.

        The kit's rule: the events (by uuid, in order) are exactly the stream's events from
        expected + 1 on. Only reached on the slow path, so appends never pay for it.
        """
        expected = self.expected
        if own is None or own[1] is None or not isinstance(expected, int):
            return
        last = expected + len(self.events)
        if own[1] < last or last > MAX_VERSION:
            return
        params = [own[0], expected + 1, last]
        rows = (yield Statement(self.flavour.stored_range, params)).rows
        stored = [self.flavour.read_uuid(row[1]) for row in rows]
        if is_repeat(stored, [event.uuid for event in self.events]):
            raise _Repeat([int(row[0]) for row in rows])

    # --- the events ------------------------------------------------------------------------

    def _insert_guarded(
        self, stream_pk: int, events: Sequence[RawEvent]
    ) -> Generator[Statement, Outcome, None]:
        """Insert `events`; if an event id is taken, take the claim back before re-raising."""
        try:
            flavour = self.flavour
            for statement in flavour.insert_events(stream_pk, self.tenant, events):
                self.inserted += flavour.inserted_ids((yield statement))
        except self.errors.integrity as error:
            if violates_event_id_index(str(self.errors.driver_error(error))):
                yield from self._undo_claim(stream_pk)
            raise

    def _undo_claim(self, stream_pk: int) -> Generator[Statement, Outcome, None]:
        """Take back the claim after the events were refused: nothing of the append stays.

        Where a failed statement leaves the transaction open, the claim's write would
        otherwise be committed with the caller's work: a stream at a version without events.
        """
        flavour = self.flavour
        if flavour.failed_statement_aborts_transaction:
            return
        if self.inserted:  # earlier chunks
            yield Statement(flavour.undo_events(len(self.inserted)), self.inserted)
        if self.created:
            yield Statement(flavour.undo_create, [stream_pk])
            return
        if isinstance(self.expected, int):  # a versionless claim leaves the version as it was
            yield Statement(flavour.undo_bump, [self.expected, stream_pk])
        if self.bound_name:
            yield Statement(flavour.undo_name, [stream_pk])
