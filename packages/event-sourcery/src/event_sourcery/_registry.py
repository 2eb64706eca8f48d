"""Maps stored event type names to `Event` classes and back."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from event_sourcery._limits import check_event_name
from event_sourcery.exceptions import (
    DuplicateEventName,
    EventSerializationError,
    InvalidEvent,
    UnknownEventType,
)

if TYPE_CHECKING:
    from event_sourcery._event import Event


def default_type_name(cls: type[Event]) -> str:
    """`__event_name__` if the class sets one, else ``module.QualName``."""
    explicit = cls.__dict__.get("__event_name__")
    return explicit if isinstance(explicit, str) else f"{cls.__module__}.{cls.__qualname__}"


class EventRegistry:
    """A two-way map between event classes and their stored names.

    Every `Event` subclass registers itself in `default_registry` when it is defined. A second,
    *different* class claiming a taken name raises `DuplicateEventName`; re-defining the same
    class (same module and qualified name: a module reload, a notebook cell run twice) replaces
    the old one, because refusing that would make reloads impossible.
    """

    def __init__(self) -> None:
        self._by_name: dict[str, type[Event]] = {}
        self._names: dict[type[Event], str] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def add(self, cls: type[Event], *, name: str | None = None) -> type[Event]:
        """Register `cls` under `name` (default: its type name); return `cls`.

        Raises `InvalidEvent` if the name breaks the identifier rules of stream names (1 to
        255 characters, no control characters, no surrounding whitespace), and
        `DuplicateEventName` if another class holds it.
        """
        name = check_event_name(default_type_name(cls) if name is None else name, cls.__qualname__)
        existing = self._by_name.get(name)
        if existing is not None and existing is not cls:
            same_definition = (existing.__module__, existing.__qualname__) == (
                cls.__module__,
                cls.__qualname__,
            )
            if not same_definition:
                raise DuplicateEventName(
                    f"event name {name!r} is taken by {existing.__module__}."
                    f"{existing.__qualname__}; give {cls.__module__}.{cls.__qualname__} "
                    "another __event_name__"
                )
            self._names.pop(existing, None)
        self._by_name[name] = cls
        self._names[cls] = name
        for alias in cls.__dict__.get("__event_aliases__", ()):
            self.alias(alias, cls)
        return cls

    def alias(self, name: str, cls: type[Event]) -> None:
        """Also read events stored under `name` as `cls` (after renaming a class).

        `cls` keeps its own name for new events; `__event_aliases__ = ("old.Name",)` on the
        class does the same. An alias is not held to the rules of `add`: it names what is
        stored already, perhaps by a version that did not apply them.
        """
        existing = self._by_name.get(name)
        if existing is not None and existing is not cls and self._names.get(existing) == name:
            raise DuplicateEventName(f"{name!r} is the name of {existing.__qualname__}")
        self._by_name[name] = cls

    def upcaster(self, cls: type[Event], from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Register a function turning stored data of `cls` at `from_version` into the next.

        Upcasters run on every read, step by step, up to `cls.__schema_version__`; stored
        data is never changed.
        """

        if isinstance(from_version, bool) or not isinstance(from_version, int) or from_version < 1:
            raise InvalidEvent(f"from_version must be a positive int, got {from_version!r}")
        if from_version >= cls.__schema_version__:
            raise InvalidEvent(
                f"{cls.__qualname__} is at schema version {cls.__schema_version__}: an upcaster "
                f"from version {from_version} would never run"
            )

        def register(function: Upcaster) -> Upcaster:
            key = (self.name_of(cls), from_version)
            if key in self._upcasters:
                raise DuplicateEventName(
                    f"{cls.__qualname__} already has an upcaster from version {from_version}"
                )
            self._upcasters[key] = function
            return function

        return register

    def upcast(self, cls: type[Event], version: int, data: dict[str, Any]) -> dict[str, Any]:
        """`data` stored at schema `version`, brought up to `cls.__schema_version__`."""
        target = cls.__schema_version__
        if version > target:
            raise EventSerializationError(
                f"stored {cls.__qualname__} has schema version {version}, newer than the "
                f"class's {target}: upgrade the code that reads it"
            )
        name = self.name_of(cls)
        while version < target:
            try:
                step = self._upcasters[(name, version)]
            except KeyError:
                raise EventSerializationError(
                    f"no upcaster for {cls.__qualname__} from schema version {version} to "
                    f"{version + 1}; register one with registry.upcaster({cls.__qualname__}, "
                    f"from_version={version})"
                ) from None
            data = step(data)
            version += 1
        return data

    def name_of(self, cls: type[Event]) -> str:
        """The stored name of `cls`; registers it on first use."""
        try:
            return self._names[cls]
        except KeyError:
            self.add(cls)
            return self._names[cls]

    def resolve(self, name: str) -> type[Event]:
        """The class registered for `name`; `UnknownEventType` if there is none."""
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownEventType(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

#: The registry every `Event` subclass joins on definition; backends use it unless given another.
default_registry = EventRegistry()
