"""The kit's waiting helpers: a reader still at a gap is not a reader with nothing to give.

A subscription (or a projector run) that returns nothing may be one whose reader waits at an
older gap for transactions of other tests to end; the kit's tests then wait a while for what
they committed instead of failing on the first empty answer.
"""

from __future__ import annotations

import itertools
from typing import Any, cast

import pytest
from event_sourcery import Projector
from event_sourcery_testing.conformance._support import catch_up, first_batch


def test_first_batch_skips_the_empty_batches_of_a_reader_at_a_gap() -> None:
    assert first_batch(iter([[], [], [7]])) == [7]


def test_first_batch_fails_once_its_patience_is_spent() -> None:
    with pytest.raises(AssertionError, match="no batch within"):
        first_batch(itertools.repeat([]), limit=0.05)


class _Store:
    position = 5


class _Backend:
    event_store = _Store()


class _HeldBack:
    """A projector whose first runs apply nothing (its reader waits at a gap), then all."""

    backend = _Backend()

    def __init__(self, runs: list[int], positions: list[int]) -> None:
        self._runs, self._positions = iter(runs), iter(positions)
        self.position = 0

    def run_once(self, limit: int = 500) -> int:
        applied, self.position = next(self._runs), next(self._positions)
        return applied


def _projector(runs: list[int], positions: list[int]) -> Projector:
    return cast(Projector, _HeldBack(runs, positions))


def test_catch_up_runs_on_past_runs_that_applied_nothing() -> None:
    commits: list[Any] = []
    projector = _projector([0, 0, 2, 0], [0, 0, 5, 5])
    assert catch_up(projector, lambda: commits.append(None)) == 2
    assert commits  # each run committed


def test_catch_up_fails_when_the_checkpoint_never_reaches_the_log() -> None:
    projector = _projector([0] * 1000, [0] * 1000)
    with pytest.raises(AssertionError, match="short of 5"):
        catch_up(projector, lambda: None, patience=0.05)
