"""docs/releasing.md's compatibility table is what CI tests and what the metadata declares."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

REPO = Path(__file__).resolve().parents[3]
_TABLE = re.compile(
    r"<!-- compatibility-matrix:begin -->\n(?P<table>.*?)<!-- compatibility-matrix:end -->", re.S
)
# Table rows that are version ranges of a dependency: component -> (requirement, distributions).
_DEPENDENCIES = {
    "SQLAlchemy": ("sqlalchemy", ["event-sourcery-sqlalchemy"]),
    "Django": ("django", ["event-sourcery-django"]),
    "kurrentdbclient": ("kurrentdbclient", ["event-sourcery-kurrentdb", "kurrentdb-emulator"]),
    "pydantic": ("pydantic", ["event-sourcery"]),
}


def matrix() -> dict[str, list[str]]:
    """``{component: [version, ...]}`` from the table between the markers."""
    found = _TABLE.search((REPO / "docs" / "releasing.md").read_text(encoding="utf-8"))
    assert found, "docs/releasing.md has no compatibility-matrix markers"
    rows = [line.split("|")[1:-1] for line in found["table"].splitlines()[2:]]
    return {cells[0].strip(): [v.strip() for v in cells[1].split(",")] for cells in rows}


def pyproject(distribution: str) -> dict[str, object]:
    path = REPO / "packages" / distribution / "pyproject.toml"
    project: dict[str, object] = tomllib.loads(path.read_text(encoding="utf-8"))["project"]
    return project


def workflow() -> tuple[dict[str, dict[str, object]], str]:
    text = (REPO / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    jobs: dict[str, dict[str, object]] = yaml.safe_load(text)["jobs"]
    return jobs, text


def test_python_versions_are_the_unit_and_integration_matrix_and_the_classifiers() -> None:
    pythons = matrix()["Python"]
    jobs, _ = workflow()
    for job in ("unit", "integration"):
        assert jobs[job]["strategy"]["matrix"]["python"] == pythons, job  # type: ignore[index]
    for path in sorted((REPO / "packages").glob("*/pyproject.toml")):
        project = pyproject(path.parent.name)
        classifiers = project["classifiers"]
        assert isinstance(classifiers, list)
        declared = [c.rsplit(" :: ", 1)[1] for c in classifiers if re.search(r":: 3\.\d+$", c)]
        assert declared == pythons, path
        assert project["requires-python"] == f">={pythons[0]}", path


@pytest.mark.parametrize(
    ("component", "image"), [("PostgreSQL", "postgres"), ("MariaDB", "mariadb")]
)
def test_database_versions_are_the_service_images(component: str, image: str) -> None:
    _, text = workflow()
    assert sorted(set(re.findall(rf"'?{image}:(\d+)'?", text))) == matrix()[component]


@pytest.mark.parametrize("component", sorted(_DEPENDENCIES))
def test_dependency_ranges_admit_exactly_the_tested_versions(component: str) -> None:
    name, distributions = _DEPENDENCIES[component]
    versions = matrix()[component]
    for distribution in distributions:
        requirements = pyproject(distribution)["dependencies"]
        assert isinstance(requirements, list)
        (requirement,) = [Requirement(r) for r in requirements if Requirement(r).name == name]
        spec, where = requirement.specifier, f"{distribution}: {requirement}"
        for version in versions:
            newest = f"{version[:-2]}.999" if version.endswith(".x") else f"{version}.999"
            assert spec.contains(newest), f"{where} excludes {version}, which CI tests"
        first, last = Version(versions[0]), versions[-1]
        if first.minor:
            below = f"{first.major}.{first.minor - 1}.999"
            assert not spec.contains(below), f"{where} admits {below}, below the tested {first}"
        if last.endswith(".x"):
            above = f"{int(last[:-2]) + 1}.0"
        else:
            above = f"{Version(last).major}.{Version(last).minor + 1}.0"
        assert not spec.contains(above), f"{where} admits {above}, which CI does not test"


def test_django_classifiers_are_the_tested_django_versions() -> None:
    classifiers = pyproject("event-sourcery-django")["classifiers"]
    assert isinstance(classifiers, list)
    declared = [
        c.rsplit(" :: ", 1)[1] for c in classifiers if c.startswith("Framework :: Django ::")
    ]
    assert declared == matrix()["Django"]
