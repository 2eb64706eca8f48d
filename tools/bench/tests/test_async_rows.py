"""The asyncio rows of the harness: which rows run where, their goals taken from the sync rows
of the same run, W7's split into tasks, the latency arithmetic, and the async runs themselves
on aiosqlite (a file: no server needed). No timing asserted."""

from __future__ import annotations

from pathlib import Path

import pytest
from event_sourcery_bench import _async_live, _async_workloads
from event_sourcery_bench._async_targets import AsyncSide, RawAsync, numbered
from event_sourcery_bench._cli import WORKLOADS, _parser
from event_sourcery_bench._harness import Result, judge_against_sync, measure
from event_sourcery_bench._targets import Target, targets


def _row(workload: str, target: str, unit: str, ratio: float | None, twin: str = "") -> Result:
    return Result(
        workload, "t", target, unit, 1, [1.0], [1.0], ratio, "", None, {}, bool(twin), twin
    )


def test_numbered_placeholders_for_asyncpg() -> None:
    assert numbered("SELECT ? WHERE a = ? AND b > ?") == "SELECT $1 WHERE a = $2 AND b > $3"
    assert numbered("SELECT 1") == "SELECT 1"


def test_an_async_row_s_goal_is_its_sync_twin_s_ratio_in_the_same_run() -> None:
    rows = [
        _row("W1", "postgresql", "events/s", 0.5),
        _row("W1", "postgresql+asyncpg", "events/s", 0.6, twin="postgresql"),
        _row("W1", "postgresql+psycopg-async", "events/s", 0.4, twin="postgresql"),
        _row("W4", "postgresql", "ms", 0.9),
        _row("W4", "postgresql+asyncpg", "ms", 1.2, twin="postgresql"),
    ]
    judge_against_sync(rows)
    assert [(r.goal, r.met) for r in rows[1:3]] == [
        (">= 0.5x raw (sync)", True),
        (">= 0.5x raw (sync)", False),
    ]
    assert (rows[4].goal, rows[4].met) == ("<= 0.9x raw time (sync)", False)
    assert (rows[0].goal, rows[0].met) == ("", None)  # the sync rows keep their own goals


def test_an_async_row_without_its_sync_twin_in_the_run_has_no_goal() -> None:
    alone = _row("W3", "sqlite-wal+aiosqlite", "events/s", 0.7, twin="sqlite-wal")
    judge_against_sync([alone, _row("W3", "postgresql", "events/s", 0.6)])
    assert (alone.goal, alone.met) == ("", None)


def _async_target(base: Target) -> Target:
    async def no_raw() -> RawAsync:
        raise AssertionError("not connected in this test")

    side = AsyncSide("aiosqlite", "sqlite+aiosqlite://", no_raw, base)
    return Target("sqlite-wal+aiosqlite", "sqlite", None, None, async_side=side)


def test_async_workloads_run_on_async_targets_only_and_sync_ones_on_sync_targets() -> None:
    memory = Target("in-memory", "memory", None, None)
    asynchronous = _async_target(memory)
    w1_sync = next(w for w in WORKLOADS if w.key == "W1" and not w.asynchronous)
    w1_async = next(w for w in WORKLOADS if w.key == "W1" and w.asynchronous)
    assert measure(w1_sync, asynchronous, quick=True, repetitions=1) is None
    assert measure(w1_async, memory, quick=True, repetitions=1) is None


def test_every_async_row_has_a_quick_size_and_the_postgresql_only_rows_say_so() -> None:
    rows = {w.key: w for w in WORKLOADS if w.asynchronous}
    assert set(rows) == {"W1", "W3", "W4", "W5", "W7", "LA", "LA99", "LAi"}
    assert all(w.quick_size < w.size for w in rows.values())
    assert all(rows[key].only == ("postgresql",) for key in ("W7", "LA", "LA99", "LAi"))
    assert all(rows[key].goal_from_sync for key in ("W1", "W3", "W4", "W5"))
    assert rows["W7"].target_ratio == 2.0


def test_async_drivers_default_to_all_and_alone_to_none() -> None:
    assert _parser().parse_args([]).async_drivers == ["aiosqlite", "psycopg", "asyncpg"]
    assert _parser().parse_args(["--async-drivers"]).async_drivers == []


@pytest.mark.parametrize(
    ("size", "split"), [(3000, (100, 30)), (200, (100, 2)), (100, (100, 1)), (20, (20, 1))]
)
def test_w7_runs_100_tasks_fewer_only_in_a_tiny_run(size: int, split: tuple[int, int]) -> None:
    assert _async_workloads.tasks_and_each(size) == split


def test_latency_is_delivery_minus_commit_and_an_early_delivery_counts_as_zero() -> None:
    found, early = _async_live.latencies([1.0, 2.0, 3.0], {0: 1.005, 1: 1.999, 2: 3.02})
    assert found == pytest.approx([0.005, 0.0, 0.02])
    assert early == 1


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert _async_live.percentile(values, 0.99) == 100.0
    assert _async_live.percentile(values, 0.5) == 51.0
    assert _async_live.percentile([3.0], 0.99) == 3.0


def test_the_writer_s_pauses_are_random_within_40_ms_and_the_same_each_run() -> None:
    gaps = _async_live.busy_gaps(300)
    assert gaps == _async_live.busy_gaps(300)
    assert all(0 <= gap < 0.04 for gap in gaps)
    assert len(set(gaps)) == 300  # not one fixed period a poll could lock onto


@pytest.mark.parametrize("key", ["W1", "W3", "W4", "W5"])
def test_the_async_rows_run_on_aiosqlite(tmp_path: Path, key: str) -> None:
    row = next(w for w in WORKLOADS if w.key == key and w.asynchronous)
    with targets(["sqlite-wal"], str(tmp_path), ["aiosqlite"]) as made:
        [sync, asynchronous] = made
        assert asynchronous.async_side is not None
        assert asynchronous.async_side.base is sync
        result = measure(row, asynchronous, quick=True, repetitions=1)
    assert result is not None
    assert result.asynchronous
    assert result.sync_twin == "sqlite-wal"
    assert len(result.library) == len(result.raw) == 1
    assert result.ratio is not None


def _documented_commands() -> list[list[str]]:
    """The `es-bench` command lines of the harness' README and docs/performance.md."""
    root = Path(__file__).resolve().parents[3]
    commands = []
    for doc in (root / "tools" / "bench" / "README.md", root / "docs" / "performance.md"):
        text = doc.read_text().replace("\\\n", " ")
        for line in text.splitlines():
            words = line.split("#")[0].split()
            if "es-bench" in words and words[0] != "|":
                commands.append(words[words.index("es-bench") + 1 :])
    return commands


def test_the_documented_command_lines_are_valid_es_bench_arguments() -> None:
    commands = _documented_commands()
    assert any("LA99" in command for command in commands)
    keys = {w.key for w in WORKLOADS}
    for command in commands:
        args = _parser().parse_args(command)  # SystemExit on an unknown option or choice
        assert set(args.workloads) <= keys, command
