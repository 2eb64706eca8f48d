"""The opener the `event-sourcery` command line finds under the entry point ``django``."""

from __future__ import annotations

from importlib.metadata import entry_points
from uuid import uuid4

import pytest
from event_sourcery import Event, StreamId
from event_sourcery.exceptions import InvalidInput
from event_sourcery_django import DjangoBackend
from event_sourcery_django._cli import open_settings


class CliNoted(Event):
    text: str


def test_is_registered_for_the_command_line() -> None:
    (point,) = [p for p in entry_points(group="event_sourcery.backends") if p.name == "django"]
    assert point.load() is open_settings


@pytest.mark.django_db(transaction=True)
def test_yields_a_backend_of_the_settings_and_commits(monkeypatch: pytest.MonkeyPatch) -> None:
    # The opener sets DJANGO_SETTINGS_MODULE, as the command needs. Set here first, so that
    # monkeypatch restores the original (unset) afterwards: pytest processes that later tests
    # start would otherwise inherit it. (delenv of an unset variable records nothing.)
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "es_django_settings")
    stream = StreamId(category=f"cli{uuid4().hex[:12]}")
    with open_settings("es_django_settings") as backend:
        assert isinstance(backend, DjangoBackend)
        backend.event_store.append(CliNoted(text="hi"), stream_id=stream)

    assert [raw.data for raw in DjangoBackend().event_store.load_stream_raw(stream)] == [
        {"text": "hi"}
    ]


def test_an_unimportable_settings_module_is_invalid_input() -> None:
    with (
        pytest.raises(InvalidInput, match="cannot import the Django settings module"),
        open_settings(f"no_such_settings_{uuid4().hex}"),
    ):
        pass  # pragma: no cover
