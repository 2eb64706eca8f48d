"""Transactions in flight: what one poll of the log saw, and how PostgreSQL names transactions.

A reader passes a missing position only once every transaction in flight when it saw the gap
has ended (`_gaps`). A *marker* is the set of those transactions, by the database's own ids,
or None when the database could not list them all (the next look decides). Each flavour says
how to take one and how to tell which of its transactions still run (`Flavour`, "the log").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Transactions in flight by id; None: unknown (the list was cut short).
Marker = frozenset[int] | None


@dataclass(frozen=True, slots=True)
class LogHead:
    """What one read of the head of the log saw."""

    #: Positions after the reader's, ascending (the first page only; none where gaps are final).
    ids: list[int]
    #: The highest position visible in the same read.
    horizon: int
    #: What the flavour keeps of that read to judge markers by (PostgreSQL: its snapshot).
    snapshot: Any = None


_XID_SPAN = 1 << 32


def widen(xid: int, near: int) -> int:
    """The 64-bit id (``xid8``) of 32-bit transaction id `xid`, assigned close to `near`."""
    candidate = (near & ~(_XID_SPAN - 1)) | xid
    if candidate > near + _XID_SPAN // 2:
        return candidate - _XID_SPAN
    if candidate < near - _XID_SPAN // 2:
        return candidate + _XID_SPAN
    return candidate


@dataclass(frozen=True, slots=True)
class PgSnapshot:
    """A ``pg_snapshot``: which transactions it holds as running.

    Its in-progress list alone is NOT a marker: it lists only ids below ``xmax``, one past the
    newest *completed* id, so a transaction whose id is newer than every completed one is
    running but absent (``20806:20806:`` with 20806 running). Such a transaction may hold a
    position below a visible one; trusting the list lost events under load.
    """

    xmax: int
    listed: frozenset[int]

    @classmethod
    def parse(cls, text: str) -> PgSnapshot:
        """The snapshot of ``pg_current_snapshot()::text`` (``xmin:xmax:xip,...``)."""
        _, xmax, xip = text.split(":")
        return cls(int(xmax), frozenset(int(x) for x in xip.split(",")) if xip else frozenset())

    def running(self, xid: int) -> bool:
        """Whether `xid` (assigned before the snapshot was taken) was running in it: listed, or
        at or above ``xmax``."""
        return xid >= self.xmax or xid in self.listed
