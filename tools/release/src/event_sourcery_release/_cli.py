"""``es-release``: release the distributions of packages/ one at a time (docs/releasing.md).

Commands:
    status [--json]     each distribution: version, last release, changed since, Unreleased entries
    check               fail if a distribution changed since its last release (or was never
                        released) and its CHANGELOG has nothing under "Unreleased" (CI runs it)
    bump NAME PART      PART = major, minor or patch: new version, changelog section dated,
                        siblings whose range must move (or --needed-by) moved
    release NAME        everything a release does but the upload (the release workflow runs it)
    lowest-core [--json]
                        the oldest core each distribution's range admits, and its tag if it is
                        older than this checkout's (CI's lowest job tests each against it)

Exit codes: 0 success; 1 a check failed or a release was refused (one line each says why);
2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from event_sourcery_release._bump import bump
from event_sourcery_release._lowest import CORE, lowest_cores
from event_sourcery_release._release import release
from event_sourcery_release._workspace import (
    Distribution,
    ReleaseError,
    distributions,
    find,
    repository_root,
)


def _status_row(distribution: Distribution) -> dict[str, object]:
    last = distribution.last_release
    entries = len(distribution.unreleased_entries)
    changed = distribution.changed
    return {
        "distribution": distribution.name,
        "version": str(distribution.version),
        "last_release": str(last) if last else None,
        "changed_since_release": changed,
        "unreleased_entries": entries,
        "ok": entries > 0 or not changed,
    }


def _status(root: Path, *, as_json: bool) -> int:
    rows = [_status_row(d) for d in distributions(root)]
    if as_json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'distribution':<27} {'version':<8} {'last release':<15} {'changed':<8} unreleased")
    for row in rows:
        last = row["last_release"] or "never released"
        changed = "yes" if row["changed_since_release"] else "no"
        entries = row["unreleased_entries"]
        note = "" if row["ok"] else "  <- needs a CHANGELOG entry"
        name, version = row["distribution"], row["version"]
        print(f"{name:<27} {version:<8} {last:<15} {changed:<8} {entries}{note}")
    return 0


def _check(root: Path) -> int:
    failures = []
    for distribution in distributions(root):
        if distribution.changed and not distribution.unreleased_entries:
            since = (
                f"since {distribution.tag(distribution.last_release)}"
                if distribution.last_release
                else "and was never released"
            )
            failures.append(
                f"packages/{distribution.name} changed {since}, but its CHANGELOG.md has no entry "
                'under "## Unreleased": add one saying what changed for its users'
            )
    for failure in failures:
        print(f"CHANGELOG CHECK FAILED: {failure}", file=sys.stderr)
    if not failures:
        print("changelog check: every changed distribution has an Unreleased entry")
    return 1 if failures else 0


def _lowest_core(root: Path, *, as_json: bool) -> int:
    rows = lowest_cores(find(root, CORE))
    if as_json:
        print(json.dumps([{**vars(r), "version": str(r.version)} for r in rows], indent=2))
        return 0
    for row in rows:
        where = f"tag {row.tag}" if row.tag else "this checkout (the workspace run covers it)"
        print(f"{row.distribution:<27} {row.requirement:<28} lowest core {row.version}: {where}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="es-release",
        description=(__doc__ or "").splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join((__doc__ or "").splitlines()[2:]),
    )
    commands = parser.add_subparsers(dest="command", required=True)
    status = commands.add_parser("status", help="where each distribution stands")
    status.add_argument("--json", action="store_true", help="a JSON list, for scripts")
    commands.add_parser("check", help="the CI changelog check")
    lowest = commands.add_parser("lowest-core", help="the oldest core each distribution admits")
    lowest.add_argument("--json", action="store_true", help="a JSON list, for CI")
    bumping = commands.add_parser("bump", help="bump one distribution's version")
    bumping.add_argument("name")
    bumping.add_argument("part", choices=["major", "minor", "patch"])
    bumping.add_argument("--date", help="the release date (default: today), YYYY-MM-DD")
    bumping.add_argument(
        "--needed-by",
        action="append",
        default=[],
        metavar="SIBLING",
        help="a sibling that uses what the new version brings: raise its lower bound too",
    )
    releasing = commands.add_parser("release", help="check, build, smoke-test, write the notes")
    releasing.add_argument("name")
    releasing.add_argument("--out", type=Path, required=True, help="a new folder for the output")
    releasing.add_argument("--tag", help="the tag being released (<name>/v<version>)")
    releasing.add_argument("--dry-run", action="store_true", help="no tag needed; no upload")
    releasing.add_argument(
        "--assume-released",
        action="append",
        default=[],
        metavar="SIBLING",
        help="with --dry-run: treat this sibling's version as released (planning a release train)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``es-release``; return its exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "release" and args.assume_released and not args.dry_run:
        parser.error("--assume-released is only for --dry-run")
    try:
        root = repository_root()
        if args.command == "status":
            return _status(root, as_json=args.json)
        if args.command == "check":
            return _check(root)
        if args.command == "lowest-core":
            return _lowest_core(root, as_json=args.json)
        distribution = find(root, args.name)
        if args.command == "bump":
            for line in bump(
                distribution, args.part, date=args.date, needed_by=tuple(args.needed_by)
            ):
                print(line)
            return 0
        return release(
            distribution,
            out=args.out.resolve(),
            tag=args.tag,
            dry_run=args.dry_run,
            assume_released=tuple(args.assume_released),
        )
    except ReleaseError as error:
        print(f"es-release: {error}", file=sys.stderr)
        return 1
