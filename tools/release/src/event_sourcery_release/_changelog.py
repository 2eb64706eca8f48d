"""A distribution's CHANGELOG.md: its "Unreleased" section and one section per released version.

The format every ``packages/*/CHANGELOG.md`` follows::

    # Changelog

    ## Unreleased

    - what changed since the last release, one bullet per change

    ## 0.2.0 - 2027-01-15

    - ...

"Unreleased" is always the first section (it may be empty right after a release); a released
section's heading is the version, a dash and the release date. Versions are compared with
``packaging.version``, so ``0.2`` and ``0.2.0`` name the same section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

UNRELEASED = "Unreleased"
_HEADING = re.compile(r"^## (?P<title>.+?)\s*$")
_RELEASED = re.compile(r"^(?P<version>\S+) - (?P<date>\d{4}-\d{2}-\d{2})$")


class ChangelogError(Exception):
    """A changelog that does not follow the format above, or lacks the section asked for."""


@dataclass(frozen=True)
class Section:
    """One ``## `` section: its title and the lines after the heading, up to the next one."""

    title: str
    start: int  # index of the heading line
    end: int  # index of the next heading (or the number of lines)
    body: tuple[str, ...]

    @property
    def entries(self) -> list[str]:
        """The bullets of the section (a bullet's continuation lines are not counted)."""
        return [line for line in self.body if line.startswith(("- ", "* "))]

    @property
    def text(self) -> str:
        """The body without its surrounding blank lines: the release notes of a version."""
        return "\n".join(self.body).strip("\n") + "\n"


def sections(text: str) -> list[Section]:
    """The ``## `` sections of a changelog, in file order."""
    lines = text.splitlines()
    starts = [index for index, line in enumerate(lines) if _HEADING.match(line)]
    found = []
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(lines)
        match = _HEADING.match(lines[start])
        assert match is not None
        found.append(Section(match["title"], start, end, tuple(lines[start + 1 : end])))
    return found


def unreleased(text: str) -> Section:
    """The "Unreleased" section, which must be the first one.

    Raises:
        ChangelogError: There is none, or it is not the first section.
    """
    found = sections(text)
    if not found or found[0].title != UNRELEASED:
        first = found[0].title if found else "no section at all"
        raise ChangelogError(f'the first section must be "## {UNRELEASED}", found "{first}"')
    return found[0]


def released(text: str, version: Version) -> Section | None:
    """The section of a released ``version`` (``## 0.2.0 - 2027-01-15``), or None."""
    for section in sections(text):
        match = _RELEASED.match(section.title)
        if match is None:
            continue
        try:
            if Version(match["version"]) == version:
                return section
        except InvalidVersion:
            continue
    return None


def release(text: str, version: Version, date: str) -> str:
    """Date the "Unreleased" section as ``version`` and open an empty one above it.

    Raises:
        ChangelogError: No "Unreleased" section, it has no entries, or ``version`` has a
            section already.
    """
    section = unreleased(text)
    if not section.entries:
        raise ChangelogError(f'"## {UNRELEASED}" has no entries: there is nothing to release')
    if released(text, version) is not None:
        raise ChangelogError(f"there is a section for {version} already")
    lines = text.splitlines()
    lines[section.start : section.start + 1] = [
        f"## {UNRELEASED}",
        "",
        f"## {version} - {date}",
    ]
    return "\n".join(lines) + "\n"


def add_entry(text: str, entry: str) -> str:
    """Add the bullet ``- entry`` at the end of the "Unreleased" section."""
    section = unreleased(text)
    lines = text.splitlines()
    last = section.end
    while last > section.start + 1 and not lines[last - 1].strip():
        last -= 1
    lines[last:last] = ["", f"- {entry}"] if last == section.start + 1 else [f"- {entry}"]
    return "\n".join(lines) + "\n"
