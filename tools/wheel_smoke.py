"""Build every distribution, install the wheels into a clean environment, and use them.

    uv run python tools/wheel_smoke.py [--keep DIR] [--python PYTHON]

What users get is the wheels, not this workspace: a dependency that is only declared in the
workspace, a version range between our own distributions that the built versions do not meet,
a module left out of a wheel, or a missing ``py.typed`` all pass the test suite and break on
``pip install``. This script catches those:

1. ``uv build --all-packages --no-sources``: every sdist and wheel, each wheel built from its
   sdist, without the workspace's ``[tool.uv.sources]``.
2. Checks each wheel: version as in its ``pyproject.toml``, ``py.typed`` present, no tests
   shipped, and every requirement on another distribution of this repository satisfied by the
   version built here (a broken range fails here, with both versions named). And the metadata a
   user sees on the registry page (``check_metadata``): the project URLs, the MIT license
   expression with the repository's ``LICENSE`` in the wheel and the sdist, the Python-version
   classifiers of the tested matrix, keywords, and the package README as the Markdown long
   description, with absolute links only (a relative one is broken on the registry page).
3. A fresh virtual environment (``uv venv``, a system interpreter, no downloads) outside the
   repository, and ``uv pip install`` of the wheel files only, with every extra; their
   dependencies come from the package index as they would for a user. No workspace source is
   importable there.
4. ``uv pip check``; imports every package from site-packages; runs ``docs/quickstart.py`` and
   the conformance kit against the in-memory backend with the installed wheels.
5. A second fresh environment with only ``event-sourcery-testing`` (and the ``event-sourcery``
   wheel it needs), no extras, as a user's test dependency: it must not bring a cipher library
   or a database driver (``_LEAN``), and the conformance kit must run there, its encryption
   contract skipped.

``--package NAME`` (what ``es-release release`` runs) checks every wheel the same way but installs
only that distribution and the siblings it requires, built from this checkout, and exercises what
they contain.

Slow and needs the package index, so it is a step of ``.ci/run`` rather than a pytest test.
Exits non-zero with ``WHEEL SMOKE FAILED: ...`` on the first problem.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import Message
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]

# A conformance module using only installed wheels: the kit and the in-memory backend.
_CONFORMANCE = """\
import pytest

from event_sourcery import Backend
from event_sourcery_testing import InMemoryBackend
from event_sourcery_testing.conformance import BackendConformance, Capabilities


class TestInstalledInMemoryBackend(BackendConformance):
    capabilities = Capabilities(transactions=False)

    @pytest.fixture
    def backend(self) -> Backend:
        return InMemoryBackend()
"""

# Imports each package and checks that it comes from the venv's site-packages, typed.
_IMPORTS = """\
import importlib, importlib.metadata, pathlib, sys
expected = dict(arg.split("=", 1) for arg in sys.argv[1:])
prefix = pathlib.Path(sys.prefix).resolve()
for module_name, version in expected.items():
    module = importlib.import_module(module_name)
    location = pathlib.Path(module.__file__).resolve()
    assert prefix in location.parents, f"{module_name} imported from {location}, not the venv"
    assert (location.parent / "py.typed").is_file(), f"{module_name} has no py.typed"
    dist = module_name.replace("_", "-")
    assert importlib.metadata.version(dist) == version, (dist, importlib.metadata.version(dist))
    print(f"  import {module_name} {version} from site-packages: ok")
"""

# Third-party modules a full install (every extra of every distribution) must be able to import.
_DRIVERS = ("psycopg", "pymysql", "sqlalchemy", "pydantic")
_DRIVER_IMPORTS = """\
import importlib, sys
for driver in sys.argv[1:]:
    importlib.import_module(driver)
    print(f"  import {driver}: ok")
"""

# What every wheel's metadata must say (the registry page): one repository, one site.
_REPOSITORY = "https://github.com/event-sourcery/event-sourcery"
_SITE = "https://event-sourcery.github.io/event-sourcery/"
_URL_LABELS = {"Homepage", "Documentation", "Repository", "Changelog", "Issues"}
# The Python versions CI tests (docs/releasing.md's compatibility table, checked against the
# workflow's matrix by tools/release/tests/test_matrix.py).
_PYTHONS = ("3.11", "3.12", "3.13", "3.14")
# A Markdown link or image whose target has no scheme: fine on GitHub, broken on a registry page.
_RELATIVE_LINK = re.compile(r"!?\[[^\]]*\]\((?![a-z][a-z0-9+.-]*:|#)([^)\s]+)")


# What a bare `pip install event-sourcery-testing` must not bring: it is a test dependency for
# the in-memory backend, and each of these belongs to an extra somewhere.
_LEAN = ("event-sourcery-testing", ("cryptography", "cffi", "pycparser", "psycopg", "pymysql"))


class SmokeFailure(Exception):
    """One problem with the built distributions, worded for the CI log."""


@dataclass(frozen=True)
class Project:
    """One distribution of the workspace, as its pyproject.toml declares it."""

    name: str
    version: Version
    import_name: str
    extras: tuple[str, ...]
    requires: tuple[str, ...]  # canonical names of every run-time requirement


def workspace_projects() -> list[Project]:
    projects = []
    for pyproject in sorted(REPO.glob("packages/*/pyproject.toml")):
        meta = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
        projects.append(
            Project(
                name=canonicalize_name(meta["name"]),
                version=Version(meta["version"]),
                import_name=meta["name"].replace("-", "_"),
                extras=tuple(sorted(meta.get("optional-dependencies", {}))),
                requires=tuple(
                    canonicalize_name(Requirement(line).name)
                    for line in meta.get("dependencies", [])
                ),
            )
        )
    if not projects:
        raise SmokeFailure("no packages/*/pyproject.toml found")
    return projects


def uv_command() -> list[str]:
    found = os.environ.get("UV") or shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def clean_env() -> dict[str, str]:
    """The environment without anything pointing at the workspace's virtual environment."""
    env = dict(os.environ)
    for name in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH", "PYTHONHOME", "UV_PYTHON"):
        env.pop(name, None)
    return env


def run(args: Sequence[str | Path], *, cwd: Path, what: str) -> str:
    shown = [str(arg) if "\n" not in str(arg) else "<script>" for arg in args]
    print(f"$ {' '.join(shown)}", flush=True)
    result = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    output = (result.stdout + result.stderr).rstrip()
    if result.returncode != 0:
        raise SmokeFailure(f"{what} (exit {result.returncode}):\n{output}")
    return output


def build(dist: Path) -> None:
    run(
        [*uv_command(), "build", "--all-packages", "--no-sources", "--out-dir", dist],
        cwd=REPO,
        what="uv build failed",
    )


def _wheel_of(project: Project, dist: Path) -> Path:
    stem = re.sub(r"[-_.]+", "_", project.name)
    wheels = sorted(dist.glob(f"{stem}-*.whl"))
    sdists = sorted(dist.glob(f"{stem}-*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        raise SmokeFailure(
            f"expected one wheel and one sdist of {project.name}, got {wheels} {sdists}"
        )
    return wheels[0]


def check_wheel(project: Project, wheel: Path, built: dict[str, Version]) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(metadata_name).decode())
    if Version(metadata["Version"]) != project.version:
        raise SmokeFailure(
            f"{wheel.name}: version {metadata['Version']}, pyproject says {project.version}"
        )
    if f"{project.import_name}/py.typed" not in names:
        raise SmokeFailure(f"{wheel.name} ships no {project.import_name}/py.typed")
    if stray := [
        n for n in names if n.split("/")[0] not in {project.import_name} and ".dist-info/" not in n
    ]:
        raise SmokeFailure(f"{wheel.name} ships files outside {project.import_name}/: {stray[:5]}")
    for line in metadata.get_all("Requires-Dist") or []:
        requirement = Requirement(line)
        sibling = canonicalize_name(requirement.name)
        if sibling in built and not requirement.specifier.contains(
            built[sibling], prereleases=True
        ):
            raise SmokeFailure(
                f"{project.name} {project.version} requires {requirement}, but this repository "
                f"builds {sibling} {built[sibling]}: fix the range in "
                f"packages/{project.name}/pyproject.toml"
            )
    check_metadata(project, wheel, metadata, names)
    print(f"  {wheel.name}: version, py.typed, contents, sibling ranges, metadata ok")


def check_metadata(project: Project, wheel: Path, metadata: Message, names: list[str]) -> None:
    """What a user reads on the registry page: URLs, license, classifiers, keywords, README."""
    where = f"{wheel.name} (packages/{project.name}/pyproject.toml)"
    urls = {
        label.strip(): url.strip()
        for label, _, url in (line.partition(",") for line in metadata.get_all("Project-URL") or [])
    }
    if set(urls) != _URL_LABELS:
        raise SmokeFailure(f"{where}: [project.urls] has {sorted(urls)}, not {sorted(_URL_LABELS)}")
    if stray := [u for u in urls.values() if not u.startswith((_REPOSITORY, _SITE))]:
        raise SmokeFailure(f"{where}: project URLs outside {_REPOSITORY} and {_SITE}: {stray}")
    if metadata["License-Expression"] != "MIT" or metadata.get_all("License-File") != ["LICENSE"]:
        raise SmokeFailure(f'{where}: want license = "MIT" and license-files = ["LICENSE"]')
    licence = next((n for n in names if n.endswith(".dist-info/licenses/LICENSE")), None)
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read(licence) if licence else b""
    if shipped != (REPO / "LICENSE").read_bytes():
        raise SmokeFailure(f"{wheel.name}: its licenses/LICENSE is not the repository's LICENSE")
    classifiers = set(metadata.get_all("Classifier") or [])
    wanted = {f"Programming Language :: Python :: {v}" for v in _PYTHONS} | {"Typing :: Typed"}
    if missing := sorted(wanted - classifiers):
        raise SmokeFailure(f"{where}: classifiers missing {missing}")
    if not metadata["Keywords"]:
        raise SmokeFailure(f"{where}: no keywords")
    readme = (REPO / "packages" / project.name / "README.md").read_text(encoding="utf-8")
    if metadata["Description-Content-Type"] != "text/markdown" or (
        str(metadata.get_payload()).strip() != readme.strip()
    ):
        raise SmokeFailure(f"{where}: the long description is not its README.md, as Markdown")
    if relative := _RELATIVE_LINK.findall(readme):
        raise SmokeFailure(
            f"packages/{project.name}/README.md is the registry page, where relative links "
            f"break: make these absolute: {relative}"
        )


def check_sdist(project: Project, dist: Path) -> None:
    """The sdist carries the LICENSE too (a wheel built from it gets it from there)."""
    stem = re.sub(r"[-_.]+", "_", project.name)
    (sdist,) = dist.glob(f"{stem}-*.tar.gz")
    with tarfile.open(sdist) as archive:
        member = archive.extractfile(f"{stem}-{project.version}/LICENSE")
        shipped = member.read() if member else b""
    if shipped != (REPO / "LICENSE").read_bytes():
        raise SmokeFailure(f"{sdist.name} does not ship the repository's LICENSE")


def install(
    projects: Sequence[Project],
    wheels: dict[str, Path],
    venv: Path,
    python: str,
    *,
    extras: bool = True,
) -> Path:
    uv = uv_command()
    run(
        [*uv, "venv", venv, "--python", python, "--no-python-downloads", "--no-project"],
        cwd=venv.parent,
        what="uv venv failed",
    )
    venv_python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    requirements = [
        f"{p.name}{'[' + ','.join(p.extras) + ']' if p.extras and extras else ''}"
        f" @ {wheels[p.name].as_uri()}"
        for p in projects
    ]
    print(
        run(
            [*uv, "pip", "install", "--python", venv_python, *requirements],
            cwd=venv.parent,
            what="installing the wheels failed",
        )
    )
    print(
        run(
            [*uv, "pip", "check", "--python", venv_python],
            cwd=venv.parent,
            what="uv pip check failed",
        )
    )
    listing = run(
        [*uv, "pip", "list", "--python", venv_python, "--format", "freeze"],
        cwd=venv.parent,
        what="uv pip list failed",
    )
    if editable := [line for line in listing.splitlines() if line.startswith("-e ")]:
        raise SmokeFailure(f"workspace sources leaked into the environment: {editable}")
    return venv_python


def exercise(projects: Sequence[Project], venv_python: Path, scratch: Path) -> None:
    """Import every installed package; run the quickstart and the kit if they are installed."""
    versions = [f"{p.import_name}={p.version}" for p in projects]
    print(
        run(
            [venv_python, "-c", _IMPORTS, *versions],
            cwd=scratch,
            what="importing the wheels failed",
        )
    )
    # With --package only some distributions are installed: run what they make runnable.
    names = {p.name for p in projects}
    if names == {p.name for p in workspace_projects()}:
        print(
            run(
                [venv_python, "-c", _DRIVER_IMPORTS, *_DRIVERS],
                cwd=scratch,
                what="importing the extras' drivers failed",
            )
        )
    if "event-sourcery-sqlalchemy" in names:
        run_quickstart(venv_python, scratch)
    if "event-sourcery-testing" in names:
        output = run_kit(
            venv_python, scratch, what="the conformance kit failed on the installed wheels"
        )
        print("  conformance kit on the wheels: " + output.splitlines()[-1])


def run_quickstart(venv_python: Path, scratch: Path) -> None:
    """docs/quickstart.py (SQLAlchemy on SQLite) with the installed wheels."""
    quickstart = scratch / "quickstart.py"
    shutil.copy(REPO / "docs" / "quickstart.py", quickstart)
    output = run(
        [venv_python, quickstart], cwd=scratch, what="docs/quickstart.py failed on the wheels"
    )
    if "Balance: 5 at version 5" not in output:
        raise SmokeFailure(f"docs/quickstart.py printed something unexpected:\n{output}")
    print("  docs/quickstart.py on the wheels: ok")


def run_kit(venv_python: Path, scratch: Path, *, what: str) -> str:
    """Run the conformance kit against the in-memory backend; return pytest's output."""
    (scratch / "test_installed_conformance.py").write_text(_CONFORMANCE, encoding="utf-8")
    (scratch / "pytest.ini").write_text(
        "[pytest]\naddopts = -p no:cacheprovider\n", encoding="utf-8"
    )
    return run(
        [venv_python, "-m", "pytest", "-q", "-rs", "test_installed_conformance.py"],
        cwd=scratch,
        what=what,
    )


def installed_names(venv_python: Path, scratch: Path) -> set[str]:
    listing = run(
        [*uv_command(), "pip", "list", "--python", venv_python, "--format", "freeze"],
        cwd=scratch,
        what="uv pip list failed",
    )
    # Only `name==version` lines: uv also says which environment it used.
    return {canonicalize_name(line.split("==")[0]) for line in listing.splitlines() if "==" in line}


def check_lean(
    projects: Sequence[Project], wheels: dict[str, Path], work: Path, python: str
) -> None:
    """Install the testing distribution alone, without extras, and look at what came with it."""
    name, forbidden = _LEAN
    wanted = {canonicalize_name(name), "event-sourcery"}  # its sibling from this build
    venv, scratch = work / "venv-lean", work / "scratch-lean"
    scratch.mkdir()
    venv_python = install(
        [p for p in projects if p.name in wanted], wheels, venv, python, extras=False
    )
    brought = installed_names(venv_python, scratch)
    print(f"  a bare {name} brings: {', '.join(sorted(brought))}")
    if unwanted := sorted(brought & {canonicalize_name(f) for f in forbidden}):
        raise SmokeFailure(f"a bare install of {name} brings {unwanted}: move them to an extra")
    output = run_kit(venv_python, scratch, what=f"the conformance kit failed on a bare {name}")
    if "event-sourcery-testing[encryption]" not in output:
        raise SmokeFailure(f"a bare {name} did not skip the encryption contract:\n{output}")
    print(f"  conformance kit on a bare {name}: " + output.splitlines()[-1])


def with_siblings(projects: Sequence[Project], name: str) -> list[Project]:
    """The distribution ``name`` and every sibling it requires, directly or not."""
    by_name = {p.name: p for p in projects}
    if canonicalize_name(name) not in by_name:
        raise SmokeFailure(f"no distribution {name!r} in packages/ (there are: {sorted(by_name)})")
    wanted: set[str] = set()
    todo: list[str] = [canonicalize_name(name)]
    while todo:
        current = todo.pop()
        if current not in wanted:
            wanted.add(current)
            todo.extend(r for r in by_name[current].requires if r in by_name)
    return [p for p in projects if p.name in wanted]


def smoke(work: Path, python: str, package: str | None = None) -> None:
    projects = workspace_projects()
    dist, venv, scratch = work / "dist", work / "venv", work / "scratch"
    scratch.mkdir(parents=True)
    print(f"wheel smoke: {', '.join(f'{p.name} {p.version}' for p in projects)}")
    build(dist)
    built = {p.name: p.version for p in projects}
    wheels = {p.name: _wheel_of(p, dist) for p in projects}
    for project in projects:
        check_wheel(project, wheels[project.name], built)
        check_sdist(project, dist)
    chosen = with_siblings(projects, package) if package else projects
    if package:
        siblings = ", ".join(p.name for p in chosen if p.name != canonicalize_name(package))
        print(f"installing {package} alone, with the siblings it requires from this build:")
        print(f"  {siblings or 'none'}")
    venv_python = install(chosen, wheels, venv, python)
    exercise(chosen, venv_python, scratch)
    if not package:
        check_lean(projects, wheels, work, python)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--keep", type=Path, help="work in this (new) folder and keep it")
    parser.add_argument("--python", default=sys.executable, help="interpreter of the clean venv")
    parser.add_argument("--package", help="install and exercise only this distribution")
    args = parser.parse_args(argv)
    try:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=False)
            smoke(args.keep.resolve(), args.python, args.package)
        else:
            with tempfile.TemporaryDirectory(prefix="event-sourcery-wheels-") as work:
                smoke(Path(work), args.python, args.package)
    except SmokeFailure as failure:
        print(f"WHEEL SMOKE FAILED: {failure}", file=sys.stderr, flush=True)
        return 1
    print("wheel smoke: all wheels build, install, import and run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
