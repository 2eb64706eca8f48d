"""SQLite: its SQL text, value conversions, transactions in flight and capabilities."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from event_sourcery.sql._flavour import Flavour
from event_sourcery.sql._inflight import LogHead
from event_sourcery.sql._protocol import Statement


class SQLite(Flavour):
    """SQLite (see `Flavour`)."""

    name = "SQLite"

    # --- values -------------------------------------------------------------------------------

    # --- appending ----------------------------------------------------------------------------

    # --- the log ------------------------------------------------------------------------------
    # One writer at a time, committing in position order: a position missing below a visible
    # one was rolled back or deleted, so every gap is final as soon as it is seen.

    log_gaps_final = True

    def log_head(self, after: int, limit: int) -> Statement:
        return Statement(f"SELECT coalesce(max(id), 0) FROM {self.tables.events}")

    def read_log_head(self, rows: list[Sequence[Any]]) -> LogHead:
        return LogHead([], int(rows[0][0]))

    # --- loads, snapshots, deletion, positions --------------------------------------------------
