"""Runs workloads, alternating library and raw runs, and summarises them."""

from __future__ import annotations

import gc
import statistics
from dataclasses import asdict, dataclass, field

from event_sourcery_bench._live import NOTES
from event_sourcery_bench._peers import PeerColumn
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
    #: Each peer's values, by peer name (`--peers`), measured in the same repetitions.
    peers: dict[str, list[float]] = field(default_factory=dict)
    #: An asyncio row; `sync_twin` names the sync target whose ratio is its goal, if any.
    asynchronous: bool = False
    sync_twin: str = ""

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


def _run_peers(
    workload: Workload, target: Target, size: int, columns: list[PeerColumn], into: Result
) -> None:
    """One run of each peer column, into `into.peers`; a peer that fails is reported loudly and
    measured no further on this row (its column stays out of the row)."""
    for column in columns:
        name = column.peer.name
        if name in into.peers and not into.peers[name]:
            continue  # failed earlier on this row
        values = into.peers.setdefault(name, [])
        _settle()
        try:
            amount, seconds, note = column.run(workload.key, target.peer_family, size)
        except Exception as exc:
            print(f"!! peer {name} failed on {workload.key} {target.name}: {exc}")
            values.clear()
            continue
        values.append(_value(workload.unit, amount, seconds))
        if note:
            NOTES[(workload.key, f"{target.name}, {name}")] = note


def _peer_columns(workload: Workload, target: Target, peers: list[PeerColumn]) -> list[PeerColumn]:
    if not workload.peers:
        return []
    return [c for c in peers if c.runs(workload.key, target.peer_family)]


def measure(
    workload: Workload,
    target: Target,
    *,
    quick: bool,
    repetitions: int,
    peers: list[PeerColumn] | None = None,
) -> Result | None:
    """Run `workload` on `target` `repetitions` times each side (and each peer that runs it
    there), interleaved; None if n/a."""
    if workload.only and target.dialect not in workload.only:
        return None
    asynchronous = target.async_side is not None
    if workload.asynchronous != asynchronous:
        return None
    size = workload.quick_size if quick else workload.size
    library: list[float] = []
    raw: list[float] = []
    has_baseline = target.raw_connect is not None or asynchronous or not workload.needs_raw_driver
    raw_run = workload.raw if has_baseline else None
    columns = _peer_columns(workload, target, peers or [])
    peered = Result(workload.key, "", target.name, workload.unit, size, [], [], None, "", None)
    for _ in range(repetitions):
        _settle()
        library.append(_value(workload.unit, *workload.library(target, size)))
        if raw_run is not None:
            _settle()
            raw.append(_value(workload.unit, *raw_run(target, size)))
        _run_peers(workload, target, size, columns, peered)
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
        {name: values for name, values in peered.peers.items() if values},
        asynchronous,
        target.async_side.base.name if target.async_side and workload.goal_from_sync else "",
    )


def judge_against_sync(results: list[Result]) -> None:
    """Give each asyncio row that takes its goal from the sync backend the ratio of the same
    workload on its sync twin in this run: at least it for rates, at most it for times."""
    ratios = {(r.workload, r.target): r.ratio for r in results if not r.asynchronous}
    for r in results:
        goal = ratios.get((r.workload, r.sync_twin)) if r.sync_twin else None
        if goal is None or r.ratio is None:
            continue
        if r.unit == "events/s":
            r.goal, r.met = f">= {goal:.3g}x raw (sync)", r.ratio >= goal
        else:
            r.goal, r.met = f"<= {goal:.3g}x raw time (sync)", r.ratio <= goal


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


def _speedup(unit: str, ours: float, theirs: float) -> float:
    """How many times faster ours is: a ratio of rates, or the inverse ratio of times."""
    return ours / theirs if unit == "events/s" else theirs / ours


def peer_table(results: list[Result]) -> str:
    """A Markdown table of the rows with peers: medians (min-max) of ours, the raw driver and
    each peer, and ours against the best peer as a speed-up (above 1: ours is faster)."""
    names = sorted({name for r in results for name in r.peers})
    lines = [
        "| workload | target | unit | ours | raw | "
        + "".join(f"{name} | " for name in names)
        + "best peer | ours / best peer |",
        "|---|---|---|---|---|" + "---|" * len(names) + "---|---|",
    ]
    for r in results:
        if not r.peers or not r.library:
            continue
        ours = statistics.median(r.library)
        medians = {name: statistics.median(values) for name, values in r.peers.items()}
        best = max(medians, key=lambda name: _speedup(r.unit, medians[name], ours))
        cells = "".join(f"{_cell(r.peers.get(name, []))} | " for name in names)
        lines.append(
            f"| {r.workload} | {r.target} | {r.unit} | {_cell(r.library)} | {_cell(r.raw)} | "
            f"{cells}{best} | {_speedup(r.unit, ours, medians[best]):.2f}x |"
        )
    return "\n".join(lines)
