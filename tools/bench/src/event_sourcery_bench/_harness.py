"""Runs workloads, alternating library and raw runs, and summarises them."""

from __future__ import annotations

import gc
import statistics
from dataclasses import asdict, dataclass

from event_sourcery_bench._targets import Target
from event_sourcery_bench._workloads import Workload


@dataclass
class Result:
    """Medians and ranges of one workload on one target."""

    workload: str
    title: str
    target: str
    unit: str
    size: int
    library: list[float]
    raw: list[float]
    ratio: float | None
    goal: str
    met: bool | None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _value(unit: str, amount: int, seconds: float) -> float:
    if unit == "events/s":
        return amount / seconds
    if unit == "ms":
        return seconds * 1000 / amount
    if unit == "MB":
        return seconds / amount  # the run reports megabytes in the seconds slot
    return seconds * 1_000_000 / amount  # µs


def _judge(
    workload: Workload, dialect: str, library: float, ratio: float | None
) -> tuple[str, bool | None]:
    if workload.target_max is not None:
        return f"<= {workload.target_max:g} {workload.unit}", library <= workload.target_max
    goal = dict(workload.ratio_by_dialect).get(dialect, workload.target_ratio)
    if goal is None or ratio is None:
        return "", None
    if workload.unit == "events/s":
        return f">= {goal:g}x raw", ratio >= goal
    return f"<= {goal:g}x raw time", ratio <= goal


def _settle() -> None:
    """Collect, then freeze what survives: objects left by earlier runs (the in-memory
    backend's whole store, say) would otherwise be traversed by every garbage collection of
    the next run, slowing down whichever side allocates more, whatever it measures."""
    gc.collect()
    gc.freeze()


def measure(workload: Workload, target: Target, *, quick: bool, repetitions: int) -> Result | None:
    """Run `workload` on `target` `repetitions` times each side, alternating; None if n/a."""
    if workload.only and target.dialect not in workload.only:
        return None
    size = workload.quick_size if quick else workload.size
    library: list[float] = []
    raw: list[float] = []
    has_baseline = target.raw_connect is not None or not workload.needs_raw_driver
    raw_run = workload.raw if has_baseline else None
    for _ in range(repetitions):
        _settle()
        library.append(_value(workload.unit, *workload.library(target, size)))
        if raw_run is not None:
            _settle()
            raw.append(_value(workload.unit, *raw_run(target, size)))
    ratio = None
    if raw:
        ratio = statistics.median(library) / statistics.median(raw)
    goal, met = _judge(workload, target.family, statistics.median(library), ratio)
    return Result(
        workload.key,
        workload.title,
        target.name,
        workload.unit,
        size,
        library,
        raw,
        ratio,
        goal,
        met,
    )


def _cell(values: list[float]) -> str:
    if not values:
        return "—"
    median = statistics.median(values)
    return f"{median:,.1f} ({min(values):,.1f}-{max(values):,.1f})"


def table(results: list[Result]) -> str:
    """A Markdown table of medians (min-max), ratios and whether each goal is met."""
    lines = [
        "| workload | target | unit | library median (min-max) | raw median (min-max) "
        "| ratio | goal | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ratio = f"{r.ratio:.3g}x" if r.ratio is not None else "—"
        met = {True: "yes", False: "NO", None: "—"}[r.met]
        lines.append(
            f"| {r.workload} {r.title} | {r.target} | {r.unit} | {_cell(r.library)} | "
            f"{_cell(r.raw)} | {ratio} | {r.goal} | {met} |"
        )
    return "\n".join(lines)
