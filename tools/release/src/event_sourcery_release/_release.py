"""``es-release release``: everything a release of one distribution does but the upload.

The release workflow (``.github/workflows/release.yml``) calls exactly this, on a tag
``<name>/v<version>`` or as a ``workflow_dispatch`` dry run, and then uploads what it left in
``--out`` (trusted publishing) and creates the GitHub release from its notes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from packaging.version import Version

from event_sourcery_release import _changelog
from event_sourcery_release._workspace import (
    Distribution,
    ReleaseError,
    distributions,
    sibling_requirements,
)


def refusals(
    distribution: Distribution, *, tag: str | None, dry_run: bool, assume_released: tuple[str, ...]
) -> list[str]:
    """Why ``distribution`` at its current version cannot be released; empty if it can."""
    version = distribution.version
    problems = []
    if tag is not None and tag != distribution.tag(version):
        problems.append(
            f"the tag is {tag}, but packages/{distribution.name} is at {version}: "
            f"expected the tag {distribution.tag(version)}"
        )
    if tag is None and not dry_run:
        problems.append("a real release runs from its tag; without one, use --dry-run")
    if tag is None and version in distribution.releases:
        problems.append(
            f"{distribution.name} {version} is released already: `es-release bump` it first"
        )
    if _changelog.released(distribution.changelog, version) is None and not dry_run:
        problems.append(
            f"CHANGELOG.md has no section `## {version} - <date>`: `es-release bump` writes it"
        )
    everything = distributions(distribution.root)
    for requirement, sibling in sibling_requirements(distribution, everything):
        if dry_run and sibling.name in assume_released:
            continue
        admitted = [v for v in sibling.releases if requirement.specifier.contains(v, True)]
        if not admitted:
            released = ", ".join(map(str, sibling.releases)) or "never released"
            problems.append(
                f"{distribution.name} requires {requirement}, which no released {sibling.name} "
                f"satisfies ({released}): release {sibling.name} {sibling.version} first "
                f"(tag {sibling.tag(sibling.version)})"
            )
    return problems


def notes(distribution: Distribution, version: Version) -> str:
    """The release notes: the version's changelog section (in a dry run, maybe "Unreleased")."""
    text = distribution.changelog
    section = _changelog.released(text, version) or _changelog.unreleased(text)
    return section.text


def build_and_smoke(distribution: Distribution, out: Path) -> list[Path]:
    """Build, check and install the distribution alone (tools/wheel_smoke.py --package)."""
    smoke = out / "smoke"
    command = [
        sys.executable,
        str(distribution.root / "tools" / "wheel_smoke.py"),
        "--package",
        distribution.name,
        "--keep",
        str(smoke),
    ]
    print(f"$ {' '.join(command)}", flush=True)
    if subprocess.run(command, cwd=distribution.root, check=False).returncode != 0:
        raise ReleaseError(f"the wheel smoke test of {distribution.name} failed (output above)")
    dist = out / "dist"
    dist.mkdir()
    stem = distribution.name.replace("-", "_")
    files = sorted(smoke.glob(f"dist/{stem}-{distribution.version}[.-]*"))
    for path in files:
        shutil.copy2(path, dist / path.name)
    if len(files) != 2:
        raise ReleaseError(f"expected one wheel and one sdist of {distribution.name}: {files}")
    return [dist / path.name for path in files]


def release(
    distribution: Distribution,
    *,
    out: Path,
    tag: str | None,
    dry_run: bool,
    assume_released: tuple[str, ...] = (),
) -> int:
    """Check, build, smoke-test and write the notes; return the exit code (0: go ahead)."""
    version = distribution.version
    mode = "dry run, everything but the upload" if dry_run else f"tag {tag}"
    print(f"release {distribution.name} {version} ({mode})", flush=True)
    problems = refusals(distribution, tag=tag, dry_run=dry_run, assume_released=assume_released)
    if problems and not dry_run:
        for problem in problems:
            print(f"REFUSED: {problem}", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=False)
    files = build_and_smoke(distribution, out)
    text = notes(distribution, version)
    (out / "release-notes.md").write_text(text, encoding="utf-8")
    print(f"\nrelease notes ({out / 'release-notes.md'}):\n{text}")
    print("would upload:" if dry_run else "to upload:")
    for path in files:
        print(f"  {path}")
    if problems:
        for problem in problems:
            print(f"a real release would be REFUSED: {problem}", file=sys.stderr)
        return 1
    print(f"release {distribution.name} {version}: ready" + (" (dry run)" if dry_run else ""))
    return 0
