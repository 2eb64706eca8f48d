"""SQLite: its SQL text, value conversions, transactions in flight and capabilities."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from event_sourcery._raw import as_utc
from event_sourcery.sql._flavour import Flavour


class SQLite(Flavour):
    """SQLite (see `Flavour`)."""

    name = "SQLite"

    # --- values -------------------------------------------------------------------------------

    def bind_time(self, moment: datetime) -> Any:
        # The text SQLAlchemy's and Django's SQLite timestamps store: the UTC wall time.
        utc = as_utc(moment)
        return (
            f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d} "
            f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond:06d}"
        )

    # --- appending ----------------------------------------------------------------------------
    # The base statements: ON CONFLICT DO NOTHING and RETURNING (SQLite 3.35 or newer), no
    # locking reads (one writer at a time holds the whole database).

    # --- the log ------------------------------------------------------------------------------

    # --- loads, snapshots, deletion, positions --------------------------------------------------
