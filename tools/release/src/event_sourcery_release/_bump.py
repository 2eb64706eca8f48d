"""``es-release bump``: a new version of one distribution, its changelog dated, siblings moved."""

from __future__ import annotations

import datetime
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from event_sourcery_release import _changelog
from event_sourcery_release._workspace import (
    Distribution,
    ReleaseError,
    distributions,
    run,
    sibling_requirements,
    uv,
)


def compatible_range(version: Version) -> str:
    """``>=version,<next breaking``: the next minor below 1.0, the next major from 1.0 on.

    Semantic versioning (docs/releasing.md): below 1.0 a minor may break, from 1.0 only a major.
    """
    if version.major == 0:
        return f">={version},<0.{version.minor + 1}"
    return f">={version},<{version.major + 1}"


def _moved(requirement: Requirement, version: Version) -> str:
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    marker = f"; {requirement.marker}" if requirement.marker else ""
    return f"{requirement.name}{extras}{compatible_range(version)}{marker}"


def _set_requirement(sibling: Distribution, name: str, new: str) -> str:
    """Rewrite ``sibling``'s requirement on ``name`` in its pyproject.toml; return the old one."""
    path = sibling.folder / "pyproject.toml"
    text = path.read_text(encoding="utf-8")
    raw: list[str] = [
        line
        for line in tomllib.loads(text)["project"]["dependencies"]
        if canonicalize_name(Requirement(line).name) == canonicalize_name(name)
    ]
    if len(raw) != 1 or text.count(f'"{raw[0]}"') != 1:
        raise ReleaseError(f"cannot find one requirement on {name} in {path}: change it by hand")
    path.write_text(text.replace(f'"{raw[0]}"', f'"{new}"'), encoding="utf-8")
    return raw[0]


def bump(
    distribution: Distribution,
    part: str,
    *,
    date: str | None = None,
    needed_by: tuple[str, ...] = (),
) -> list[str]:
    """Bump ``distribution``'s version; date its changelog; move the siblings that need it.

    A sibling is moved (to ``>=new,<next breaking``, with a changelog entry saying so) when its
    range does not admit the new version, or when it is named in ``needed_by`` (it uses what
    the new version brings).

    Returns:
        One line per change made, for the user to review before committing.

    Raises:
        ReleaseError: Nothing under "Unreleased", an unknown sibling in ``needed_by``, or uv
            failed to bump.
    """
    changelog = distribution.changelog
    if not distribution.unreleased_entries:
        raise ReleaseError(
            f'{distribution.name}: its CHANGELOG has nothing under "Unreleased": nothing to release'
        )
    everything = distributions(distribution.root)
    dependents = {
        sibling.name: requirement
        for sibling in everything
        for requirement, target in sibling_requirements(sibling, everything)
        if target.name == distribution.name
    }
    if unknown := sorted(set(needed_by) - set(dependents)):
        raise ReleaseError(
            f"{', '.join(unknown)} do not depend on {distribution.name}; "
            f"its dependents are: {', '.join(sorted(dependents)) or 'none'}"
        )
    old = distribution.version
    run(
        [uv(), "version", "--package", distribution.name, "--bump", part, "--no-sync"],
        cwd=distribution.root,
    )
    new = Distribution(distribution.root, distribution.name).version
    day = date or datetime.date.today().isoformat()
    distribution.changelog_path.write_text(
        _changelog.release(changelog, new, day), encoding="utf-8"
    )
    done = [
        f"{distribution.name}: {old} -> {new}",
        f"{distribution.changelog_path.relative_to(distribution.root)}: ## {new} - {day}",
    ]
    for sibling in everything:
        requirement = dependents.get(sibling.name)
        if requirement is None:
            continue
        if requirement.specifier.contains(new, prereleases=True) and sibling.name not in needed_by:
            done.append(f"{sibling.name}: keeps {requirement} (admits {new})")
            continue
        moved = _moved(requirement, new)
        before = _set_requirement(sibling, distribution.name, moved)
        sibling.changelog_path.write_text(
            _changelog.add_entry(sibling.changelog, f"Requires `{moved}`."), encoding="utf-8"
        )
        done.append(f"{sibling.name}: {before} -> {moved} (and a changelog entry)")
    done.append(
        f"next: commit, then tag {distribution.tag(new)} on main and push the tag "
        "(the release workflow does the rest)"
    )
    return done
