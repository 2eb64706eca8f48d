"""``es-release lowest-core``: the oldest core each distribution declares, and where to get it.

CI's ``lowest`` job tests every distribution against the lowest core version its range admits
(docs/releasing.md). The candidates are the released cores (tags ``event-sourcery/v*``) and the
core of this checkout: the lowest of them inside a distribution's range is the one it must work
with. When that is this checkout's core, the job's workspace run covers it; when it is an older
release, the job installs that tag's core next to the distribution and runs its unit tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.version import Version

from event_sourcery_release._workspace import (
    Distribution,
    ReleaseError,
    distributions,
    find,
    sibling_requirements,
)

CORE = "event-sourcery"


@dataclass(frozen=True)
class LowestCore:
    """The oldest core a distribution declares, and the tag to test it from (None: this tree)."""

    distribution: str
    requirement: str
    version: Version
    tag: str | None


def lowest_cores(root_distribution: Distribution) -> list[LowestCore]:
    """For every distribution that requires the core: the lowest core version it admits.

    Raises:
        ReleaseError: A range admits neither a released core nor this checkout's.
    """
    everything = distributions(root_distribution.root)
    core = find(root_distribution.root, CORE)
    candidates = sorted({*core.releases, core.version})
    found = []
    for distribution in everything:
        for requirement, sibling in sibling_requirements(distribution, everything):
            if sibling.name != CORE:
                continue
            admitted = [v for v in candidates if requirement.specifier.contains(v, True)]
            if not admitted:
                raise ReleaseError(
                    f"{distribution.name} requires {requirement}, which admits neither a released "
                    f"core ({', '.join(map(str, core.releases)) or 'none'}) nor this checkout's "
                    f"{core.version}: fix its range"
                )
            lowest = admitted[0]
            tag = None if lowest == core.version else core.tag(lowest)
            found.append(LowestCore(distribution.name, str(requirement), lowest, tag))
    return found
