"""SQLite: its SQL text, value conversions, transactions in flight and capabilities."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cached_property
from typing import Any

from event_sourcery._readers import as_utc
from event_sourcery.sql._flavour import Flavour
from event_sourcery.sql._inflight import LogHead
from event_sourcery.sql._protocol import Outcome, Statement


class SQLite(Flavour):
    """SQLite (see `Flavour`)."""

    name = "SQLite"

    # --- values -------------------------------------------------------------------------------

    def bind_time(self, moment: datetime) -> Any:
        # The text SQLAlchemy's and Django's SQLite timestamps store: the UTC wall time.
        # (microseconds always written, so every stored value sorts and compares as text)
        return as_utc(moment).replace(tzinfo=None).isoformat(" ", "microseconds")

    # --- appending ----------------------------------------------------------------------------
    # The base statements: ON CONFLICT DO NOTHING and RETURNING (SQLite 3.35 or newer), no
    # locking reads (one writer at a time holds the whole database). The INSERTs of an append
    # return no rows: SQLite reports the last new row's id and the rows changed, and a
    # RETURNING clause costs it a temporary table of the ids, then the driver a fetch.

    @cached_property
    def create_stream(self) -> str:
        return (
            f"INSERT INTO {self.tables.streams} (tenant_id, category, uuid, name, version) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
        )

    def claimed_id(self, outcome: Outcome) -> int | None:
        if outcome.rows:  # the bump's UPDATE ... RETURNING id
            return int(outcome.rows[0][0])
        # `create_stream`: one row, or none on a conflict (the last row id is then stale).
        if outcome.rowcount != 1 or outcome.lastrowid is None:
            return None
        return int(outcome.lastrowid)

    _returning_ids = ""

    def inserted_ids(self, outcome: Outcome) -> list[int]:
        # One writer at a time: a multi-row INSERT draws consecutive ids (AUTOINCREMENT, or the
        # largest rowid plus one), in the order of its rows, the last one reported.
        assert outcome.lastrowid is not None
        last = int(outcome.lastrowid)
        return list(range(last - outcome.rowcount + 1, last + 1))

    # --- the log ------------------------------------------------------------------------------
    # One writer at a time, committing in position order: a position missing below a visible
    # one was rolled back or deleted, so every gap is final as soon as it is seen.

    log_gaps_final = True

    def log_head(self, after: int, limit: int) -> Statement:
        return Statement(f"SELECT coalesce(max(id), 0) FROM {self.tables.events}")

    def read_log_head(self, rows: list[Sequence[Any]]) -> LogHead:
        return LogHead([], int(rows[0][0]))

    # --- loads, snapshots, deletion, positions --------------------------------------------------

    # One writer at a time holds the whole database: nothing to lock row by row. A claim takes
    # the write lock first (an UPDATE of nothing), so a second worker waits for the first one's
    # commit, then sees what it published; a checkpoint's INSERT takes it the same way.
    lock_rows = ""
    skip_locked = ""
    checkpoint_create_first = True

    @property
    def claim_lock(self) -> str | None:
        return f"UPDATE {self.tables.outbox} SET attempts = attempts WHERE id = -1"

    def select_time(self, column: str) -> str:
        return f"CAST({column} AS TEXT)"
