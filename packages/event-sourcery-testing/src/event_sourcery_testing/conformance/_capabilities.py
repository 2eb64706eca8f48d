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
    """

    transactions: bool = True
