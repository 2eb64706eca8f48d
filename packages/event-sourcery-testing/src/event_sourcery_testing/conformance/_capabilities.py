"""Named differences between backends that the conformance kit honours."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do; the kit checks a capability's behaviour only where declared.

    Attributes:
        transactions: writes happen in the caller's transaction: a rollback discards them, and
            an in-transaction listener's exception takes the append down with it. The
            in-memory backend and KurrentDB have no transactions.
        unique_event_ids: an event id stored in a tenant is refused (`DuplicateEventId`) by
            any later append but the re-send of its own append, on any stream. Without it,
            only an id repeated within one append is refused: KurrentDB keeps no index of
            event ids across streams (see its guide).
    """

    transactions: bool = True
    unique_event_ids: bool = True
