"""What every distribution publishes besides its code: LICENSE, URLs, changelog, reference page."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path

import pytest
from event_sourcery_release import _changelog

REPO = Path(__file__).resolve().parents[3]
DISTRIBUTIONS = sorted(path.parent.name for path in REPO.glob("packages/*/pyproject.toml"))


def _project(distribution: str) -> dict[str, object]:
    text = (REPO / "packages" / distribution / "pyproject.toml").read_text(encoding="utf-8")
    project: dict[str, object] = tomllib.loads(text)["project"]
    return project


def test_the_repository_is_mit_licensed() -> None:
    assert (REPO / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_each_distribution_ships_a_copy_of_the_root_license(distribution: str) -> None:
    # A copy, not a symlink: hatchling takes license files from the project folder only, and a
    # symlink would be stored as a link in the sdist (and breaks on Windows checkouts).
    copy = REPO / "packages" / distribution / "LICENSE"
    assert not copy.is_symlink()
    assert copy.read_bytes() == (REPO / "LICENSE").read_bytes(), f"cp LICENSE {copy.parent}/"
    project = _project(distribution)
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_each_distribution_links_its_docs_source_changelog_and_issues(distribution: str) -> None:
    urls = _project(distribution)["urls"]
    assert isinstance(urls, dict)
    assert set(urls) == {"Homepage", "Documentation", "Repository", "Changelog", "Issues"}
    assert urls["Changelog"].endswith(f"/blob/main/packages/{distribution}/CHANGELOG.md")
    assert _project(distribution)["keywords"]


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_each_changelog_starts_with_unreleased(distribution: str) -> None:
    text = (REPO / "packages" / distribution / "CHANGELOG.md").read_text(encoding="utf-8")
    assert _changelog.unreleased(text).title == "Unreleased"


def test_the_api_reference_has_a_page_with_every_public_module() -> None:
    spec = importlib.util.spec_from_file_location("mkdocs_hooks", REPO / "tools/mkdocs_hooks.py")
    assert spec
    assert spec.loader
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    for distribution, modules in hooks.public_modules().items():
        page = (REPO / "docs" / "reference" / f"{distribution}.md").read_text(encoding="utf-8")
        for module, _ in modules:
            assert f"::: {module}\n" in page, f"docs/reference/{distribution}.md lacks {module}"
