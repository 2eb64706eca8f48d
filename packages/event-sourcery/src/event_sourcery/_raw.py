"""The stored form of an event: `RawEvent`, what every backend stores and returns.

Backends store and return `RawEvent`s only; the typed world lives in the core (`_codec` turns
events into records and back, `_fast_decode` does it for loads by the thousand).
`raw_from_text` is the record's constructor for rows read back; it lives here, beside
``__slots__``, because it sets the slots itself.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from event_sourcery._stream_id import StreamId

Json = dict[str, Any]


class RawEvent:
    """An event as stored: JSON-ready `data` and `context`, and its envelope.

    Readable whether or not the event's class is importable: nothing is ever lost to a
    missing class. Backends may pass `data` and `context` as the JSON text they stored: it is
    parsed only when read, and typed loads validate straight from the text (much faster than
    parsing to a dict first).
    """

    __slots__ = (
        "_context",
        "_context_text",
        "_data",
        "_data_text",
        "created_at",
        "schema_version",
        "stream_id",
        "type",
        "uuid",
        "version",
    )

    def __init__(
        self,
        uuid: UUID,
        stream_id: StreamId,
        type: str,
        version: int | None,
        created_at: datetime,
        data: Json | str,
        context: Json | str | None = None,
        schema_version: int = 1,
    ) -> None:
        self.uuid = uuid
        self.stream_id = stream_id
        self.type = type
        self.version = version
        self.created_at = created_at
        self.schema_version = schema_version
        self._data: Json | None = None
        self._data_text: str | None = None
        self._context: Json | None = None
        self._context_text: str | None = None
        if isinstance(data, str):
            self._data_text = data
        else:
            self._data = data
        if isinstance(context, str):
            self._context_text = context
        else:
            self._context = {} if context is None else context

    @property
    def data(self) -> Json:
        """The event's fields, as JSON-compatible values."""
        if self._data is None:
            parsed: Json = json.loads(self._data_text or "{}")
            self._data = parsed
        return self._data

    @property
    def context(self) -> Json:
        """The event's context (correlation, causation, extra fields)."""
        if self._context is None:
            parsed: Json = json.loads(self._context_text or "{}")
            self._context = parsed
        return self._context

    def data_json(self) -> str:
        """`data` as JSON text: the text it came as, else `json.dumps` of it (for writers)."""
        text = self._data_text
        return text if text is not None else json.dumps(self._data)

    def context_json(self) -> str:
        """`context` as JSON text: the text it came as, else `json.dumps` of it."""
        text = self._context_text
        return text if text is not None else json.dumps(self._context or {})

    @property
    def data_text(self) -> str | None:
        """The stored JSON text of `data`, when the backend handed it over as text."""
        return self._data_text

    @property
    def context_text(self) -> str | None:
        """The stored JSON text of `context`, when the backend handed it over as text."""
        return self._context_text

    def replace(self, **changes: Any) -> RawEvent:
        """A copy with some fields changed."""
        fields: dict[str, Any] = {
            "uuid": self.uuid,
            "stream_id": self.stream_id,
            "type": self.type,
            "version": self.version,
            "created_at": self.created_at,
            "data": self._data if self._data is not None else self._data_text,
            "context": self._context if self._context is not None else self._context_text,
            "schema_version": self.schema_version,
        }
        fields.update(changes)
        return RawEvent(**fields)

    def _key(self) -> tuple[Any, ...]:
        return (
            self.uuid,
            self.stream_id,
            self.type,
            self.version,
            self.created_at,
            self.data,
            self.context,
            self.schema_version,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RawEvent):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # mutable-looking payloads: not hashable

    def __repr__(self) -> str:
        return (
            f"RawEvent(uuid={self.uuid!r}, stream_id={self.stream_id!r}, type={self.type!r}, "
            f"version={self.version!r}, created_at={self.created_at!r}, data={self.data!r}, "
            f"context={self.context!r}, schema_version={self.schema_version!r})"
        )


_new = object.__new__


def raw_from_text(
    uuid: UUID,
    stream_id: StreamId,
    type: str,
    version: int | None,
    created_at: datetime,
    data: str,
    context: str | None,
    schema_version: int,
) -> RawEvent:
    """``RawEvent(...)`` for a row read back, with `data` and `context` as the stored text.

    For backends, one per event read: it skips the constructor's checks of what a stored row
    always is (every argument positional, JSON as text); what that saves per event is in
    docs/performance.md ("Reading events").
    """
    raw = _new(RawEvent)
    raw.uuid = uuid
    raw.stream_id = stream_id
    raw.type = type
    raw.version = version
    raw.created_at = created_at
    raw.schema_version = schema_version
    raw._data = None
    raw._data_text = data
    raw._context = None
    raw._context_text = context
    return raw
