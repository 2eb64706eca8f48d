"""Events the conformance kit appends; their names are prefixed so they never clash."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from event_sourcery import Event


class Deposited(Event):
    """A small event."""

    __event_name__ = "es_conformance.Deposited"
    amount: int


class Withdrawn(Event):
    """A second type, for mixed streams."""

    __event_name__ = "es_conformance.Withdrawn"
    amount: int


class Rich(Event):
    """Every JSON-relevant kind of field, to check the round trip."""

    __event_name__ = "es_conformance.Rich"
    text: str
    number: float
    big: int
    price: Decimal
    when: datetime
    ref: UUID
    tags: list[str]
    nested: dict[str, list[int]]
    maybe: str | None = None


class Balance(Event):
    """A snapshot state."""

    __event_name__ = "es_conformance.Balance"
    total: int


class CartEvent(Event):
    """The base class of a cart's events, as users write one for typed loads."""

    __event_name__ = "es_conformance.CartEvent"


class ItemAdded(CartEvent):
    """A cart event."""

    __event_name__ = "es_conformance.ItemAdded"
    sku: str


class ItemRemoved(CartEvent):
    """Another cart event."""

    __event_name__ = "es_conformance.ItemRemoved"
    sku: str
