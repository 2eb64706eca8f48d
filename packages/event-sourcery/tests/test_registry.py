"""Event type names and the registry."""

import pytest
from event_sourcery import Event, EventRegistry, default_registry
from event_sourcery.exceptions import DuplicateEventName, InvalidEvent, UnknownEventType


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


@pytest.mark.parametrize("name", ["", "x" * 256])
def test_unusable_event_names_are_rejected(name: str) -> None:
    with pytest.raises(InvalidEvent):
        EventRegistry().add(Named, name=name)
