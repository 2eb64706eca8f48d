"""Cheap conversions of stored values, for backends reading rows back by the thousand.

A load or a catch-up converts a uuid and a timestamp per event; with the standard
constructors that cost more than validating the event's payload. The readers here take only
what a store wrote itself, so they skip the checks meant for arbitrary input. New event ids
(`new_uuids`) are made here too, by the same means. The measurements are in
docs/performance.md ("Reading events", and "unique event ids" for `new_uuids`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from os import urandom
from time import time_ns
from uuid import UUID, SafeUUID

_new, _UNKNOWN = object.__new__, SafeUUID.unknown
# UUID's slots, set through their descriptors: cheaper than object.__setattr__ by name.
_set_int, _set_safe = UUID.__dict__["int"].__set__, UUID.__dict__["is_safe"].__set__


def uuid_of_int(number: int) -> UUID:
    """``UUID(int=number)`` without its checks, for a 128-bit `number`."""
    value = _new(UUID)
    _set_int(value, number)
    _set_safe(value, _UNKNOWN)
    return value


#: The bits of a version 7 uuid (RFC 9562) that come from the random source: 12 after the
#: version, 62 after the variant; the top 48 are the Unix time in milliseconds.
_V7_RANDOM = (0xFFF << 64) | ((1 << 62) - 1)
_V7_SET = (7 << 76) | (0b10 << 62)


def new_uuids(count: int) -> list[UUID]:
    """`count` new event ids: version 7 uuids (time-ordered), from one read of the random source.

    Time-ordered because event ids are unique per tenant through a database index: random
    (version 4) keys land all over that B-tree, so each append touched pages across the whole
    index; ids that grow with time land at its right edge, as Marten's sequential event ids
    do. 74 random bits per id keep them unguessable and collision-free; the creation time they
    reveal is stored beside every event anyway. ``uuid4()`` would also read the random source
    once per uuid, a system call each.
    """
    random = urandom(16 * count)
    millis = time_ns() // 1_000_000 << 80
    return [
        uuid_of_int(millis | (int.from_bytes(random[offset : offset + 16]) & _V7_RANDOM) | _V7_SET)
        for offset in range(0, 16 * count, 16)
    ]


def new_uuid() -> UUID:
    """One new event id, as `new_uuids` makes them."""
    return new_uuids(1)[0]


def uuid_from_hex(text: str) -> UUID:
    """The UUID stored as `text`: 32 hex digits, or the 36-character form with hyphens.

    A third of the cost of ``UUID(text)``; a text that is not hex raises ValueError.
    """
    value = _new(UUID)
    number = int(text if len(text) == 32 else text.replace("-", ""), 16)
    if number >> 128:
        raise ValueError(f"not a stored uuid: {text!r}")
    _set_int(value, number)
    _set_safe(value, _UNKNOWN)
    return value


def utc_from_text(text: str) -> datetime:
    """The aware UTC datetime of `text`, a UTC wall time in ISO form ('T' or a space between).

    Naming the zone in the text is five times faster than ``replace(tzinfo=UTC)`` on the
    parsed value.
    """
    return datetime.fromisoformat(text + "+00:00")


def as_utc(moment: datetime) -> datetime:
    """`moment` in UTC; naive values (as some databases return them) are taken as UTC."""
    tzinfo = moment.tzinfo
    if tzinfo is UTC:  # the common case on every read path: no conversion at all
        return moment
    if tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
