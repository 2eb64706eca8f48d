"""`es-bench`: every workload on every reachable backend, library against raw driver."""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
from pathlib import Path

from event_sourcery_bench._async_live import ASYNC_WORKLOADS
from event_sourcery_bench._async_targets import ASYNC_DRIVERS
from event_sourcery_bench._harness import (
    Result,
    judge_against_sync,
    measure,
    peer_table,
    table,
)
from event_sourcery_bench._live import NOTES
from event_sourcery_bench._peers import PEER_NAMES, PeerColumn, peer_columns
from event_sourcery_bench._targets import targets
from event_sourcery_bench._workloads import WORKLOADS as SYNC_WORKLOADS

WORKLOADS = [*SYNC_WORKLOADS, *ASYNC_WORKLOADS]

_ALL_TARGETS = [
    "memory",
    "sqlite",
    "sqlite-wal",
    "postgresql",
    "mariadb",
    "django-sqlite",
    "django-postgresql",
    "kurrentdb",
]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="es-bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repetition (CI)")
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--targets", nargs="*", default=_ALL_TARGETS, choices=_ALL_TARGETS)
    parser.add_argument("--workloads", nargs="*", default=sorted({w.key for w in WORKLOADS}))
    parser.add_argument(
        "--async-drivers",
        nargs="*",
        default=list(ASYNC_DRIVERS),
        choices=list(ASYNC_DRIVERS),
        help="the asyncio rows' drivers (aiosqlite beside sqlite-wal, psycopg and asyncpg "
        "beside postgresql); --async-drivers alone: no asyncio rows",
    )
    parser.add_argument(
        "--peers",
        nargs="*",
        choices=PEER_NAMES,
        default=[],
        help="peer libraries measured beside the library, each in an environment of its own "
        "(W1-W6 on sqlite-wal and postgresql); --peers alone: all of them",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    return parser


def _report(results: list[Result], repetitions: int, columns: list[PeerColumn]) -> None:
    print(
        f"Machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.system()}; repetitions: {repetitions}"
    )
    print(table([r for r in results if not r.asynchronous]))
    asynchronous = [r for r in results if r.asynchronous]
    if asynchronous:
        print("\nAsyncio (raw: aiosqlite on SQLite, asyncpg on PostgreSQL):\n")
        print(table(asynchronous))
    if columns:
        pins = "; ".join(f"{c.peer.name}: {', '.join(c.peer.requirements)}" for c in columns)
        print(f"\nPeers ({pins}):\n")
        print(peer_table(results))
    for (key, where), note in sorted(NOTES.items()):
        print(f"- {key} on {where}: {note}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    repetitions = 1 if args.quick else args.repetitions
    chosen = [w for w in WORKLOADS if w.key in args.workloads]
    wanted = PEER_NAMES if args.peers == [] and _peers_flag(argv) else args.peers
    results: list[Result] = []
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="es-bench-") as directory:
        columns = peer_columns(wanted, Path(directory))
        with targets(args.targets, directory, args.async_drivers) as reachable:
            for workload in chosen:
                for target in reachable:
                    try:
                        result = measure(
                            workload,
                            target,
                            quick=args.quick,
                            repetitions=repetitions,
                            peers=columns,
                        )
                    except Exception as exc:
                        failures.append(
                            f"{workload.key} on {target.name}: {type(exc).__name__}: {exc}"
                        )
                        continue
                    if result is not None:
                        results.append(result)
                        print(f"  {result.workload} {result.target}: done", file=sys.stderr)
    judge_against_sync(results)
    _report(results, repetitions, columns)
    if args.json:
        args.json.write_text(json.dumps([r.as_dict() for r in results], indent=2))
    for failure in failures:
        print(f"!! FAILED {failure}")
    return 1 if failures else 0


def _peers_flag(argv: list[str] | None) -> bool:
    """Whether `--peers` was given (alone, it means every peer)."""
    return "--peers" in (sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    raise SystemExit(main())
