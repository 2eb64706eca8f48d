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
        idempotent_appends: re-sending an append that was stored (same event uuids at the same
            expected version, as after a lost reply) succeeds without storing anything twice
            and reports the original positions (`_idempotency` states the rule).
    """

    transactions: bool = True
    idempotent_appends: bool = True
