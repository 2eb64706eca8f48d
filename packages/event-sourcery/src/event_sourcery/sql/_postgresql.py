"""PostgreSQL: its SQL text, value conversions, transactions in flight and capabilities."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from event_sourcery.sql._flavour import Flavour
from event_sourcery.sql._inflight import LogHead, Marker, PgSnapshot, widen
from event_sourcery.sql._protocol import Protocol, Statement


class PostgreSQL(Flavour):
    """PostgreSQL (see `Flavour`)."""

    name = "PostgreSQL"

    # --- values -------------------------------------------------------------------------------

    # --- appending ----------------------------------------------------------------------------

    # --- the log ------------------------------------------------------------------------------
    # Markers: the live list of transaction ids of this database's sessions and prepared
    # transactions (a transaction of another database of the cluster can never write our
    # events), taken after the read. The cursor judges them by the snapshot of its next head
    # read (`pg_current_snapshot()`, in the read itself: no extra round trip); the position, by
    # their live status.

    log_judged_by_head = True

    def log_head(self, after: int, limit: int) -> Statement:
        events = self.tables.events
        return Statement(
            f"SELECT pg_current_snapshot()::text, (SELECT max(id) FROM {events}), "
            f"ARRAY(SELECT id FROM {events} WHERE id > %s ORDER BY id LIMIT %s)",
            (after, limit),
        )

    def read_log_head(self, rows: list[Sequence[Any]]) -> LogHead:
        snapshot, horizon, ids = rows[0]
        return LogHead(list(ids), horizon or 0, PgSnapshot.parse(snapshot))

    def take_marker(self, head: LogHead | None, exclude: int) -> Protocol[Marker]:
        # Read live, not as of a snapshot; prepared (two-phase) transactions have no session
        # but may hold positions too. 32-bit ids, widened near the head's snapshot.
        outcome = yield Statement(
            "SELECT backend_xid::text FROM pg_stat_activity WHERE backend_xid IS NOT NULL "
            "AND datid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND pid <> pg_backend_pid() AND pid <> %s "
            "UNION ALL SELECT transaction::text FROM pg_prepared_xacts "
            "WHERE database = current_database()",
            (exclude,),
        )
        near = head.snapshot.xmax if head is not None and head.snapshot is not None else 0
        return frozenset(widen(int(row[0]), near) for row in outcome.rows)

    def still_in_flight(
        self, marker: Marker, head: LogHead | None, exclude: int
    ) -> Protocol[Marker]:
        if head is not None and head.snapshot is not None and marker is not None:
            # A transaction the read's own snapshot does not hold as running had ended before it.
            return frozenset(xid for xid in marker if head.snapshot.running(xid))
        if not marker:
            return marker
        # pg_xact_status reads the live state, not a snapshot: right under any isolation.
        outcome = yield Statement(
            "SELECT x FROM unnest(CAST(%s AS text[])) AS x "
            "WHERE pg_xact_status(CAST(x AS xid8)) = 'in progress'",
            (sorted(str(xid) for xid in marker),),
        )
        return frozenset(int(row[0]) for row in outcome.rows)

    def session_of(self, dbapi_connection: Any) -> Protocol[int]:
        info = getattr(dbapi_connection, "info", None)  # psycopg 3
        pid = getattr(info, "backend_pid", None)
        if pid is None and hasattr(dbapi_connection, "get_backend_pid"):  # psycopg2
            pid = dbapi_connection.get_backend_pid()
        if pid is None:
            outcome = yield Statement("SELECT pg_backend_pid()")
            pid = outcome.rows[0][0]
        return int(pid)

    def position_now(self) -> Statement:
        # The statistics snapshot is cleared: pg_stat_activity is read once per transaction
        # otherwise, and a second position in one transaction would go by the first's list.
        return Statement(
            "SELECT coalesce(max(id), 0), pg_backend_pid(), pg_current_snapshot()::text, "
            f"pg_stat_clear_snapshot()::text FROM {self.tables.events}"
        )

    def read_position_now(self, rows: list[Sequence[Any]]) -> tuple[int, int, LogHead]:
        position, session, snapshot, _ = rows[0]
        return int(position), int(session), LogHead([], int(position), PgSnapshot.parse(snapshot))

    # --- loads, snapshots, deletion, positions --------------------------------------------------

    def select_uuid(self, column: str) -> str:
        return f"{column}::text"

    def select_json(self, column: str) -> str:
        return f"{column}::text"

    def select_time(self, column: str) -> str:
        return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')"""

    # The session: subscriptions opened in its transaction leave it out of their markers.
    session_identity = "pg_backend_pid()"
