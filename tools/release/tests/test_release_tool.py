"""es-release on a throw-away repository: tags, the changelog check, bumps and refusals."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from event_sourcery_release import _changelog
from event_sourcery_release._cli import main
from packaging.version import Version

_WORKSPACE = """\
[project]
name = "root"
version = "0"
requires-python = ">=3.11"

[tool.uv]
package = false

[tool.uv.workspace]
members = ["packages/*"]

[tool.uv.sources]
core = { workspace = true }
"""

_MEMBER = """\
[project]
name = "{name}"
version = "{version}"
requires-python = ">=3.11"
dependencies = [{dependencies}]

[build-system]
requires = ["hatchling>=1.25"]
build-backend = "hatchling.build"
"""


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def _member(repo: Path, name: str, version: str, dependencies: str = "", notes: str = "") -> None:
    folder = repo / "packages" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(
        _MEMBER.format(name=name, version=version, dependencies=dependencies)
    )
    (folder / "CHANGELOG.md").write_text(f"# Changelog\n\n## Unreleased\n{notes}")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """core 0.1.0 (released, tag core/v0.1.0) and backend 0.1.0 (never released)."""
    (tmp_path / "pyproject.toml").write_text(_WORKSPACE)
    _member(tmp_path, "core", "0.1.0", notes="\n- First release.\n")
    _member(tmp_path, "backend", "0.1.0", '"core>=0.1,<0.2"', "\n- First release.\n")
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "start")
    _git(tmp_path, "tag", "core/v0.1.0")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_check_passes_when_every_change_has_an_unreleased_entry(repo: Path) -> None:
    assert main(["check"]) == 0


def test_check_fails_for_a_change_since_the_tag_without_an_unreleased_entry(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # As right after a release: "Unreleased" empty in the tagged tree.
    (repo / "packages/core/CHANGELOG.md").write_text("# Changelog\n\n## Unreleased\n")
    _git(repo, "commit", "-qam", "released")
    _git(repo, "tag", "-f", "core/v0.1.0")
    assert main(["check"]) == 0
    (repo / "packages/core/module.py").write_text("x = 1\n")
    assert main(["check"]) == 1
    assert "packages/core changed since core/v0.1.0" in capsys.readouterr().err


def test_check_fails_for_a_never_released_distribution_without_entries(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "packages/backend/CHANGELOG.md").write_text("# Changelog\n\n## Unreleased\n")
    assert main(["check"]) == 1
    assert "packages/backend changed and was never released" in capsys.readouterr().err


def test_status_says_never_released(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.split()[:3] == ["backend", "0.1.0", "never"] for line in lines)
    assert any(line.split()[:4] == ["core", "0.1.0", "0.1.0", "no"] for line in lines)


def test_bump_dates_the_changelog_and_moves_a_sibling_whose_range_excludes_it(
    repo: Path,
) -> None:
    (repo / "packages/core/CHANGELOG.md").write_text(
        "# Changelog\n\n## Unreleased\n\n- A breaking change.\n\n## 0.1.0 - 2026-01-01\n\n- Old.\n"
    )
    assert main(["bump", "core", "minor", "--date", "2026-12-01"]) == 0
    core = (repo / "packages/core/CHANGELOG.md").read_text()
    assert core.startswith("# Changelog\n\n## Unreleased\n\n## 0.2.0 - 2026-12-01\n\n- A breaking")
    assert 'version = "0.2.0"' in (repo / "packages/core/pyproject.toml").read_text()
    assert '"core>=0.2.0,<0.3"' in (repo / "packages/backend/pyproject.toml").read_text()
    backend = (repo / "packages/backend/CHANGELOG.md").read_text()
    assert "- First release.\n- Requires `core>=0.2.0,<0.3`.\n" in backend


def test_bump_refuses_an_empty_unreleased_section(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "packages/core/CHANGELOG.md").write_text("# Changelog\n\n## Unreleased\n")
    assert main(["bump", "core", "patch"]) == 1
    assert 'nothing under "Unreleased"' in capsys.readouterr().err
    assert 'version = "0.1.0"' in (repo / "packages/core/pyproject.toml").read_text()


def test_release_refuses_a_sibling_range_without_a_released_version(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _member(repo, "backend", "0.1.0", '"core>=0.2,<0.3"', "\n- First release.\n")
    code = main(["release", "backend", "--tag", "backend/v0.1.0", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 1
    assert "requires core<0.3,>=0.2, which no released core satisfies (0.1.0)" in err
    assert not (tmp_path / "o").exists()  # refused before building anything


def test_release_refuses_a_tag_that_is_not_the_version(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["release", "core", "--tag", "core/v0.2.0", "--out", str(tmp_path / "o")])
    assert code == 1
    assert "expected the tag core/v0.1.0" in capsys.readouterr().err


def test_changelog_section_of_a_version_is_its_release_notes() -> None:
    text = "# Changelog\n\n## Unreleased\n\n## 0.2.0 - 2027-01-15\n\n- New.\n\n## 0.1.0 - x\n"
    section = _changelog.released(text, Version("0.2"))
    assert section is not None
    assert section.text == "- New.\n"
    with pytest.raises(_changelog.ChangelogError, match='"## Unreleased" has no entries'):
        _changelog.release(text, Version("0.3.0"), "2027-02-01")


def test_lowest_core_is_the_oldest_release_the_range_admits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(_WORKSPACE.replace("core = {", "event-sourcery = {"))
    _member(tmp_path, "event-sourcery", "0.1.0", notes="\n- First.\n")
    _member(tmp_path, "old-backend", "0.1.0", '"event-sourcery>=0.1,<0.3"', "\n- First.\n")
    _member(tmp_path, "new-backend", "0.1.0", '"event-sourcery>=0.2,<0.3"', "\n- First.\n")
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "start")
    _git(tmp_path, "tag", "event-sourcery/v0.1.0")
    _member(tmp_path, "event-sourcery", "0.2.0", notes="\n- Second.\n")
    monkeypatch.chdir(tmp_path)
    assert main(["lowest-core"]) == 0
    out = capsys.readouterr().out
    assert "old-backend" in out
    assert "lowest core 0.1.0: tag event-sourcery/v0.1.0" in out
    assert "lowest core 0.2.0: this checkout" in out
