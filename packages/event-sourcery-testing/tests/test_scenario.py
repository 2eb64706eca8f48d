"""given/when/then for aggregates: past events, a command, then new events or an error."""

from __future__ import annotations

import pytest
from event_sourcery import Event, StreamId
from event_sourcery.event_sourcing import Aggregate
from event_sourcery.exceptions import InvalidInput
from event_sourcery_testing import InMemoryBackend, given


class Opened(Event):
    __event_name__ = "es_testing_scenario.Opened"


class Deposited(Event):
    __event_name__ = "es_testing_scenario.Deposited"
    amount: int


class Account(Aggregate):
    category = "es_testing_scenario_account"

    class Closed(Exception):
        pass

    def __init__(self) -> None:
        self.open = False
        self.balance = 0

    def __apply__(self, event: Event) -> None:
        if isinstance(event, Opened):
            self.open = True
        elif isinstance(event, Deposited):
            self.balance += event.amount

    def deposit(self, amount: int) -> None:
        if not self.open:
            raise Account.Closed("the account is not open")
        self._emit(Deposited(amount=amount))


def test_then_passes_with_exactly_the_new_events() -> None:
    given(Account, Opened(), Deposited(amount=5)).when(lambda a: a.deposit(10)).then(
        Deposited(amount=10)
    )
    given(Account, Opened()).when(lambda a: None).then()  # no change


def test_then_explains_a_difference() -> None:
    outcome = given(Account, Opened()).when(lambda a: a.deposit(10))
    with pytest.raises(AssertionError, match=r"!! \[0\] got Deposited\(amount=10\)"):
        outcome.then(Deposited(amount=11))
    with pytest.raises(AssertionError, match="saved 1 event"):
        outcome.then()


def test_then_raises_returns_the_error_and_nothing_is_saved() -> None:
    scenario = given(Account)
    error = scenario.when(lambda a: a.deposit(1)).then_raises(Account.Closed, match="not open")
    assert str(error) == "the account is not open"
    assert scenario.backend.event_store.load_stream(scenario.stream_id) == []


def test_a_wrong_expectation_about_the_outcome_fails() -> None:
    raised = given(Account).when(lambda a: a.deposit(1))
    with pytest.raises(AssertionError, match="the command raised Closed"):
        raised.then(Deposited(amount=1))
    with pytest.raises(AssertionError, match="expected ValueError, but the command raised Closed"):
        raised.then_raises(ValueError)
    with pytest.raises(AssertionError, match="does not match"):
        raised.then_raises(Account.Closed, match="overdrawn")
    succeeded = given(Account, Opened()).when(lambda a: a.deposit(1))
    with pytest.raises(AssertionError, match="expected Closed, but the command succeeded"):
        succeeded.then_raises(Account.Closed)


def test_the_history_is_the_aggregates_stream_and_whens_follow_each_other() -> None:
    backend = InMemoryBackend()
    scenario = given(Account, Opened(), backend=backend)
    assert scenario.stream_id.category == Account.category
    scenario.when(lambda a: a.deposit(2)).then(Deposited(amount=2))
    scenario.when(lambda a: a.deposit(3)).then(Deposited(amount=3))
    loaded = backend.event_store.load_stream(
        StreamId.of(scenario.stream_id, category=Account.category)
    )
    assert [w.event for w in loaded] == [Opened(), Deposited(amount=2), Deposited(amount=3)]


def test_an_aggregate_without_category_is_refused() -> None:
    class Nameless(Aggregate):
        pass

    with pytest.raises(InvalidInput, match="category"):
        given(Nameless)
