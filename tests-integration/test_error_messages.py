"""The store's error messages never quote event data, though the database's own messages do.

PostgreSQL quotes a JSON value it refuses ("CONTEXT: JSON data, line 1: {...}"). The core
refuses what it knows the databases refuse, so the refusal is provoked here by handing the
backend JSON text that is not JSON, as a buggy or hostile serializer would.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
from event_sourcery import Event, StreamId, _store_rules
from event_sourcery.exceptions import EventSerializationError, EventStoreException
from event_sourcery.interfaces import RawEvent
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from sqlalchemy import Engine
from sqlalchemy.orm import Session

support = sys.modules["es_django_integration"]  # loaded by conftest.py
support.configure()

from event_sourcery_django import DjangoBackend  # noqa: E402  (Django is configured now)

SECRET = "pan-4111-x"


class CardCharged(Event):
    __event_name__ = "es_integration.CardCharged"
    pan: str


@pytest.fixture
def broken_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """Appends hand the backend each event's data spoilt right after the secret: not JSON."""
    serialize_all = _store_rules.serialize_all

    def cut_short(*args: Any, **kwargs: Any) -> list[RawEvent]:
        raws = serialize_all(*args, **kwargs)
        return [raw.replace(data=raw.data_json()[:-1] + " oops}") for raw in raws]

    monkeypatch.setattr(_store_rules, "serialize_all", cut_short)


@pytest.mark.parametrize("database_engine", ["postgresql"], indirect=True)
@pytest.mark.parametrize("count", [1, 3])
def test_a_refused_payload_is_not_quoted_in_the_error(
    database_engine: Engine, broken_json: None, count: int
) -> None:
    with Session(database_engine) as session:
        store = SQLAlchemyBackend(session).event_store
        stream = StreamId(category="cards")
        with pytest.raises(EventSerializationError) as caught:
            store.append(*[CardCharged(pan=SECRET)] * count, stream_id=stream)
        session.rollback()
    _assert_secret_only_in_the_cause(caught.value)


@(
    pytest.mark.django_db(databases=["postgresql"])
    if "postgresql" in support.databases()
    else pytest.mark.usefixtures()
)
def test_a_refused_payload_is_not_quoted_in_the_error_on_django(
    request: pytest.FixtureRequest, broken_json: None
) -> None:
    # Django stores text, so only a batch meets PostgreSQL's JSON parser (see the PostgreSQL
    # flavour of event_sourcery.sql).
    support.require(request, "postgresql")
    store = DjangoBackend(using="postgresql").event_store
    with pytest.raises(EventSerializationError) as caught:
        store.append(*[CardCharged(pan=SECRET)] * 3, stream_id=StreamId(category="cards"))
    _assert_secret_only_in_the_cause(caught.value)


def _assert_secret_only_in_the_cause(error: EventStoreException) -> None:
    assert SECRET not in str(error)
    assert "__cause__" in str(error)  # where to find what the database said
    cause = error.__cause__
    assert cause is not None
    assert SECRET in str(cause) + str(getattr(cause, "orig", ""))  # kept, for debugging
