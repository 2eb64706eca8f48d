"""Event type names and the registry."""

import pytest
from event_sourcery import Event, EventRegistry, default_registry
from event_sourcery.exceptions import (
    DuplicateEventName,
    EventSerializationError,
    InvalidEvent,
    UnknownEventType,
)


class Named(Event):
    __event_name__ = "registry_test.Named"
    value: int


class Unnamed(Event):
    value: int


def test_subclasses_register_themselves_by_name() -> None:
    assert default_registry.resolve("registry_test.Named") is Named
    assert default_registry.name_of(Named) == "registry_test.Named"
    assert default_registry.name_of(Unnamed) == f"{__name__}.Unnamed"


def test_another_class_cannot_take_a_registered_name() -> None:
    with pytest.raises(DuplicateEventName, match="registry_test.Named"):

        class Impostor(Event):
            __event_name__ = "registry_test.Named"


def test_redefining_the_same_class_replaces_it() -> None:
    def define() -> type[Event]:
        class Reloaded(Event):
            __event_name__ = "registry_test.Reloaded"

        return Reloaded

    first, second = define(), define()
    assert default_registry.resolve("registry_test.Reloaded") is second
    assert first is not second


def test_unknown_names_raise_library_error() -> None:
    with pytest.raises(UnknownEventType, match="nope"):
        EventRegistry().resolve("nope")


def test_private_registries_are_independent() -> None:
    registry = EventRegistry()
    registry.add(Named, name="Alias")
    assert registry.resolve("Alias") is Named
    assert "registry_test.Named" not in registry


@pytest.mark.parametrize(
    "name", ["", "x" * 256, "nul\x00", "line\nbreak", "del\x7f", "trailing ", "\tleading"]
)
def test_unusable_event_names_are_rejected(name: str) -> None:
    with pytest.raises(InvalidEvent, match="event name of Named"):
        EventRegistry().add(Named, name=name)


def test_a_class_with_an_unusable_event_name_cannot_be_defined() -> None:
    with pytest.raises(InvalidEvent, match="must not start or end with whitespace"):

        class Padded(Event):
            __event_name__ = "registry_test.Padded "


def test_an_alias_may_name_what_earlier_versions_stored() -> None:
    registry = EventRegistry()
    registry.add(Named)
    registry.alias("registry_test.Old ", Named)
    assert registry.resolve("registry_test.Old ") is Named


def test_upcasters_run_step_by_step_and_refuse_gaps_and_duplicates() -> None:
    class Shape(Event):
        __event_name__ = "registry_test.Shape"
        __schema_version__ = 3
        c: int

    registry = EventRegistry()
    registry.add(Shape)
    registry.upcaster(Shape, from_version=1)(lambda d: {"b": d["a"] + 1})
    with pytest.raises(EventSerializationError, match="from schema version 2"):
        registry.upcast(Shape, 1, {"a": 1})
    registry.upcaster(Shape, from_version=2)(lambda d: {"c": d["b"] * 10})
    assert registry.upcast(Shape, 1, {"a": 1}) == {"c": 20}
    assert registry.upcast(Shape, 3, {"c": 5}) == {"c": 5}
    with pytest.raises(EventSerializationError, match="newer"):
        registry.upcast(Shape, 4, {})
    with pytest.raises(DuplicateEventName):
        registry.upcaster(Shape, from_version=1)(lambda d: d)


def test_aliases_from_the_class_are_registered() -> None:
    class Moved(Event):
        __event_name__ = "registry_test.Moved"
        __event_aliases__ = ("registry_test.OldMoved",)

    assert default_registry.resolve("registry_test.OldMoved") is Moved
    assert default_registry.name_of(Moved) == "registry_test.Moved"
