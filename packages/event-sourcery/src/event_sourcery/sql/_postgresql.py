"""PostgreSQL: its SQL text, value conversions, transactions in flight and capabilities."""

from __future__ import annotations

from event_sourcery.sql._flavour import Flavour


class PostgreSQL(Flavour):
    """PostgreSQL (see `Flavour`)."""

    name = "PostgreSQL"

    # --- values -------------------------------------------------------------------------------

    # --- appending ----------------------------------------------------------------------------

    # --- the log ------------------------------------------------------------------------------

    # --- loads, snapshots, deletion, positions --------------------------------------------------

    def select_uuid(self, column: str) -> str:
        return f"{column}::text"

    def select_json(self, column: str) -> str:
        return f"{column}::text"

    def select_time(self, column: str) -> str:
        return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')"""

    # The transaction id: subscriptions opened in this transaction leave it out of their
    # markers; the checkpoint's row lock assigns it anyway.
    transaction_identity = "pg_current_xact_id()::text"
