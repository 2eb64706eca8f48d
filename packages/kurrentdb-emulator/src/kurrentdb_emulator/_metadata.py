"""Stream metadata (``$$<stream>``): the keys that decide which events a stream read shows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kurrentdb_emulator._records import DELETED_STREAM, Record, ticks_now

_TICKS_PER_SECOND = 10_000_000


@dataclass(frozen=True, slots=True)
class StreamMetadata:
    """The parts of a stream's metadata that the emulator honours.

    Attributes:
        max_count: ``$maxCount``: only the newest this many events are visible.
        max_age: ``$maxAge``: events older than this many seconds are invisible.
        truncate_before: ``$tb``: events before this revision are invisible;
            ``DELETED_STREAM`` marks a soft-deleted stream.
    """

    max_count: int | None = None
    max_age: int | None = None
    truncate_before: int | None = None

    @property
    def is_soft_deleted(self) -> bool:
        """Whether the stream was soft-deleted and has not been appended to since."""
        return self.truncate_before == DELETED_STREAM

    def first_visible_revision(self, last_revision: int) -> int:
        """The lowest revision a read may return, given the stream's last revision."""
        first = 0
        if self.truncate_before is not None:
            first = max(first, self.truncate_before)
        if self.max_count is not None:
            first = max(first, last_revision - self.max_count + 1)
        return first

    def is_visible(self, record: Record, last_revision: int, *, now: int | None = None) -> bool:
        """Whether a stream read shows ``record``."""
        if record.revision < self.first_visible_revision(last_revision):
            return False
        if self.max_age is None:
            return True
        now = ticks_now() if now is None else now
        return now - record.created <= self.max_age * _TICKS_PER_SECOND


# A metastream shows only its newest event, as in KurrentDB.
METASTREAM_METADATA = StreamMetadata(max_count=1)


def parse_metadata(data: bytes) -> StreamMetadata:
    """Read the honoured keys from a metadata event's JSON.

    Like KurrentDB, unreadable metadata counts as no metadata, and a key with a value of the
    wrong type is ignored rather than failing the reads of the stream.
    """
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return StreamMetadata()
    if not isinstance(document, dict):
        return StreamMetadata()
    return StreamMetadata(
        max_count=_positive_int(document, "$maxCount"),
        max_age=_positive_int(document, "$maxAge"),
        truncate_before=_positive_int(document, "$tb"),
    )


def with_truncate_before(data: bytes, truncate_before: int) -> bytes:
    """Metadata JSON ``data`` with ``$tb`` replaced, as re-appending to a soft-deleted stream does.

    KurrentDB keeps the other keys of the metadata when it "undeletes" a stream this way.
    """
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        document = {}
    if not isinstance(document, dict):
        document = {}
    document["$tb"] = truncate_before
    return json.dumps(document).encode()


def _positive_int(document: dict[str, Any], key: str) -> int | None:
    value = document.get(key)
    # bool is an int in Python but never a valid count in JSON metadata.
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None
