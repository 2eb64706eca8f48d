"""The benchmark's event: five small fields, about 200 bytes of JSON."""

from __future__ import annotations

from typing import Any

from event_sourcery import Event

from event_sourcery_bench.peers._common import payment_fields


class Payment(Event):
    """A payment; its JSON form is about 200 bytes."""

    __event_name__ = "bench.Payment"
    account: str
    amount: int
    currency: str
    reference: str
    note: str


def payment(n: int) -> Payment:
    """The n-th payment of a run (its fields are the peers' too: `peers._common`)."""
    return Payment(**payment_fields(n))


def payment_data(n: int) -> dict[str, Any]:
    """What the raw baseline stores for the n-th payment (the same JSON as the library)."""
    return payment(n).model_dump(mode="json")


class Balance(Event):
    """The snapshot of the benchmark's aggregate."""

    __event_name__ = "bench.Balance"
    total: int
