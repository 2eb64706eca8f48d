"""SQLite: its SQL text, value conversions, transactions in flight and capabilities."""

from __future__ import annotations

from event_sourcery.sql._flavour import Flavour


class SQLite(Flavour):
    """SQLite (see `Flavour`)."""

    name = "SQLite"

    # --- values -------------------------------------------------------------------------------

    # --- appending ----------------------------------------------------------------------------

    # --- the log ------------------------------------------------------------------------------

    # --- loads, snapshots, deletion, positions --------------------------------------------------
