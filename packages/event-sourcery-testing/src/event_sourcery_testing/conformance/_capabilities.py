"""Named differences between backends that the conformance kit honours."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do; the kit runs a capability's tests only where it is declared.

    Attributes:
        transactions: writes happen in the caller's transaction and vanish on its rollback.
    """

    transactions: bool = True
