"""The published distributions of the repository, their versions, tags and sibling ranges.

A distribution is a folder ``packages/<name>/`` (``tools/`` members are never published). Its
version is what ``uv version --package`` reads from hatchling's ``[project]`` table; its releases
are the git tags ``<name>/v<version>``. No tag means never released, and that is a state of its
own: every change is new, and a sibling cannot depend on it yet.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from event_sourcery_release import _changelog


class ReleaseError(Exception):
    """A release step that cannot go on; the message says what to do."""


def run(args: list[str], *, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing its output; a failure raises ReleaseError with that output."""
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise ReleaseError(f"`{' '.join(args)}` failed (exit {result.returncode}):\n{output}")
    return result


def uv() -> str:
    """The uv that runs us (``uv run`` sets ``UV``), else the one on PATH."""
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        raise ReleaseError("uv is not on PATH: install uv 0.13 (see README.md)")
    return found


def repository_root(start: Path | None = None) -> Path:
    """The root of the git checkout holding ``start`` (default: the working directory)."""
    result = run(["git", "rev-parse", "--show-toplevel"], cwd=start or Path.cwd())
    return Path(result.stdout.strip())


@dataclass(frozen=True)
class Distribution:
    """One folder of ``packages/``: a separately released distribution."""

    root: Path  # the repository
    name: str

    @property
    def folder(self) -> Path:
        return self.root / "packages" / self.name

    @property
    def changelog_path(self) -> Path:
        return self.folder / "CHANGELOG.md"

    @property
    def changelog(self) -> str:
        return self.changelog_path.read_text(encoding="utf-8")

    @property
    def tag_prefix(self) -> str:
        return f"{self.name}/v"

    def tag(self, version: Version) -> str:
        return f"{self.tag_prefix}{version}"

    @cached_property
    def version(self) -> Version:
        """The version in ``pyproject.toml``, as ``uv version`` reads it."""
        result = run([uv(), "version", "--package", self.name, "--short"], cwd=self.root)
        return Version(result.stdout.strip())

    @property
    def requirements(self) -> list[Requirement]:
        """The run-time requirements (``[project].dependencies``) of ``pyproject.toml``."""
        project = tomllib.loads((self.folder / "pyproject.toml").read_text(encoding="utf-8"))
        return [Requirement(line) for line in project["project"].get("dependencies", [])]

    @cached_property
    def releases(self) -> list[Version]:
        """The released versions, from the tags ``<name>/v<version>``, oldest first."""
        listed = run(["git", "tag", "--list", f"{self.tag_prefix}*"], cwd=self.root).stdout
        versions = []
        for tag in listed.split():
            try:
                versions.append(Version(tag.removeprefix(self.tag_prefix)))
            except InvalidVersion:
                continue  # not a release tag of ours
        return sorted(versions)

    @property
    def last_release(self) -> Version | None:
        """The newest released version; None if the distribution was never released."""
        return self.releases[-1] if self.releases else None

    @property
    def changed(self) -> bool:
        """Whether the folder differs from the last release (always, if never released)."""
        if self.last_release is None:
            return True
        diff = run(
            ["git", "diff", "--quiet", self.tag(self.last_release), "--", f"packages/{self.name}"],
            cwd=self.root,
            check=False,
        )
        if diff.returncode not in (0, 1):
            raise ReleaseError(f"git diff against {self.tag(self.last_release)} failed")
        # A new file that is not committed yet is a change too (git diff does not list it).
        untracked = run(
            ["git", "ls-files", "--others", "--exclude-standard", "--", f"packages/{self.name}"],
            cwd=self.root,
        )
        return diff.returncode == 1 or bool(untracked.stdout.strip())

    @property
    def unreleased_entries(self) -> list[str]:
        """The bullets under the changelog's "Unreleased" heading."""
        try:
            return _changelog.unreleased(self.changelog).entries
        except _changelog.ChangelogError as error:
            raise ReleaseError(f"{self.changelog_path.relative_to(self.root)}: {error}") from None


def distributions(root: Path) -> list[Distribution]:
    """Every published distribution of the repository, by name."""
    found = [
        Distribution(root, path.parent.name)
        for path in sorted((root / "packages").glob("*/pyproject.toml"))
    ]
    if not found:
        raise ReleaseError(f"no packages/*/pyproject.toml under {root}")
    return found


def find(root: Path, name: str) -> Distribution:
    """The distribution called ``name``; ReleaseError naming the known ones otherwise."""
    everything = distributions(root)
    for distribution in everything:
        if canonicalize_name(distribution.name) == canonicalize_name(name):
            return distribution
    known = ", ".join(d.name for d in everything)
    raise ReleaseError(f"no distribution {name!r} in packages/ (there are: {known})")


def sibling_requirements(
    distribution: Distribution, everything: list[Distribution]
) -> list[tuple[Requirement, Distribution]]:
    """The requirements of ``distribution`` on other distributions of this repository."""
    by_name = {canonicalize_name(d.name): d for d in everything}
    return [
        (requirement, by_name[canonicalize_name(requirement.name)])
        for requirement in distribution.requirements
        if canonicalize_name(requirement.name) in by_name
    ]
