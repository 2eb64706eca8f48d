"""Stream identity: a uuid, an optional unique name, and an optional category."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any
from uuid import UUID, SafeUUID, uuid4, uuid5

from event_sourcery._limits import check_stream_label
from event_sourcery.exceptions import InvalidStreamId

#: Namespace of the uuid derived from a stream name. Never change it: stored named streams
#: are found again only because the same name always gives the same uuid.
STREAM_NAME_NAMESPACE = UUID("6f1ad2a8-2c3b-5a0e-9c1e-3f8a6b0e5e11")


def _uuid_of(uuid: UUID | str | None, name: str | None) -> UUID:
    if uuid is None:
        return uuid5(STREAM_NAME_NAMESPACE, name) if name is not None else uuid4()
    if isinstance(uuid, UUID):
        return uuid
    if isinstance(uuid, str):
        try:
            return UUID(uuid)
        except ValueError as exc:
            raise InvalidStreamId(f"{uuid!r} is not a uuid") from exc
    raise InvalidStreamId(f"uuid must be a UUID or str, got {type(uuid).__name__}")


class StreamUUID(UUID):
    """A stream's uuid, optionally with a unique human name.

    `StreamUUID()` is a fresh random uuid; `StreamUUID(name="acc-42")` always derives the same
    uuid from the name (uuid5), so a named stream can be addressed by name alone.
    """

    __slots__ = ("name",)
    name: str | None

    def __init__(self, uuid: UUID | str | None = None, *, name: str | None = None) -> None:
        if name is not None:
            check_stream_label(name, "stream name")
        super().__init__(int=_uuid_of(uuid, name).int)
        object.__setattr__(self, "name", name)

    @property
    def uuid(self) -> UUID:
        """The plain uuid, without name or category."""
        return UUID(int=self.int)

    def __repr__(self) -> str:
        name = f", name={self.name!r}" if self.name is not None else ""
        return f"{type(self).__name__}('{self}'{name})"

    def __reduce__(self) -> Any:
        return (type(self), (self.uuid,), {"name": self.name})

    def __setstate__(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            object.__setattr__(self, key, value)


class StreamId(StreamUUID):
    """Full identity of a stream: uuid, optional name and optional category.

    Two StreamIds are equal when uuid and category are equal: the same uuid in two categories
    is two streams. The name is a label bound to the uuid; it does not take part in equality.
    A StreamId never equals a plain `UUID` or `StreamUUID`, whatever its category.
    """

    __slots__ = ("category",)
    category: str | None

    def __init__(
        self,
        uuid: UUID | str | None = None,
        *,
        name: str | None = None,
        category: str | None = None,
    ) -> None:
        if category is not None:
            check_stream_label(category, "stream category")
        super().__init__(uuid, name=name)
        object.__setattr__(self, "category", category)

    @classmethod
    def of(cls, stream: StreamUUID, *, category: str | None = None) -> StreamId:
        """Put `stream` (a `StreamUUID` or `StreamId`) into `category`, keeping uuid and name."""
        return cls(stream.uuid, name=stream.name, category=category)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, StreamId):
            return self.int == other.int and self.category == other.category
        if isinstance(other, UUID):
            # Not even a StreamUUID of the same uuid: it has no category, so it names no
            # stream, and it hashes like its uuid while a StreamId hashes with its category.
            return False
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.int, self.category))

    def __repr__(self) -> str:
        extra = "".join(
            f", {key}={value!r}"
            for key, value in (("name", self.name), ("category", self.category))
            if value is not None
        )
        return f"StreamId('{self}'{extra})"

    def __reduce__(self) -> Any:
        return (type(self), (self.uuid,), {"name": self.name, "category": self.category})


class StoredStreamIds:
    """`StreamId`s of rows read back from storage, built once per stream.

    A reader of the global log meets each stream many times; what was stored was validated
    when it was written, so it is not checked again. Bounded: the cache starts over once it
    holds `size` streams.
    """

    __slots__ = ("_cache", "_size")

    def __init__(self, size: int = 10_000) -> None:
        self._cache: dict[tuple[Hashable, str | None, str | None], StreamId] = {}
        self._size = size

    def get(
        self,
        stored: Hashable,
        name: str | None,
        category: str | None,
        read_uuid: Callable[[Any], UUID],
    ) -> StreamId:
        """The stream whose uuid was stored as `stored` (`read_uuid` reads it), named `name`,
        of `category` (None if it has none)."""
        key = (stored, name, category)
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) >= self._size:
                self._cache.clear()
            value = read_uuid(stored).int
            found = object.__new__(StreamId)
            object.__setattr__(found, "int", value)
            object.__setattr__(found, "is_safe", SafeUUID.unknown)
            object.__setattr__(found, "name", name)
            object.__setattr__(found, "category", category)
            self._cache[key] = found
        return found
