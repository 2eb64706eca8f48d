"""Packaging conventions that hold across distributions (their pyproject.toml files)."""

import ast
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

_PACKAGES = Path(__file__).resolve().parents[1] / "packages"
_SQL_BACKENDS = ("event-sourcery-sqlalchemy", "event-sourcery-django")


def _extras(distribution: str) -> dict[str, list[tuple[str, set[str]]]]:
    pyproject = tomllib.loads((_PACKAGES / distribution / "pyproject.toml").read_text("utf-8"))
    extras = pyproject["project"].get("optional-dependencies", {})
    return {
        name: [(Requirement(line).name, Requirement(line).extras) for line in lines]
        for name, lines in extras.items()
    }


@pytest.mark.parametrize("distribution", _SQL_BACKENDS)
def test_sql_backends_offer_the_same_driver_extras(distribution: str) -> None:
    # One convention, documented in docs/index.md: an extra per database, bringing a driver that
    # installs from wheels alone (psycopg's binary build bundles libpq; PyMySQL is pure Python).
    # The SQLAlchemy backend also has the extras of its asyncio API (`_ASYNC_EXTRAS`), which
    # Django's, running on Django's own async support, has no use for.
    extras = _extras(distribution)
    if distribution == "event-sourcery-sqlalchemy":
        assert {name: extras.pop(name, None) for name in _ASYNC_EXTRAS} == _ASYNC_EXTRAS
    assert extras == {
        "postgresql": [("psycopg", {"binary"})],
        "mariadb": [("pymysql", set())],
    }


_ASYNC_EXTRAS = {
    "asyncio": [("sqlalchemy", {"asyncio"})],
    "aiosqlite": [("sqlalchemy", {"asyncio"}), ("aiosqlite", set())],
    "asyncpg": [("sqlalchemy", {"asyncio"}), ("asyncpg", set())],
    "asyncmy": [("sqlalchemy", {"asyncio"}), ("asyncmy", set())],
}


def _unpublished_imports() -> dict[str, str]:
    """Import names of workspace members a user cannot install (outside packages/, or marked
    never to upload), each with its distribution."""
    repo = _PACKAGES.parent
    imports = {}
    for pyproject in [
        *repo.glob("packages/*/pyproject.toml"),
        *repo.glob("tools/*/pyproject.toml"),
    ]:
        project = tomllib.loads(pyproject.read_text("utf-8"))["project"]
        private = "Private :: Do Not Upload" in project.get("classifiers", [])
        if private or pyproject.parent.parent.name != "packages":
            for package in (pyproject.parent / "src").iterdir():
                imports[package.name] = project["name"]
    return imports


def _imported_modules(markdown: Path) -> set[str]:
    blocks = re.findall(r"^```python\n(.*?)^```", markdown.read_text("utf-8"), re.M | re.S)
    modules = set()
    for node in ast.walk(ast.parse("\n".join(blocks))):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.add(node.module.split(".")[0])
    return modules


_PAGES = sorted(
    path.relative_to(_PACKAGES.parent).as_posix()
    for pattern in ("README.md", "packages/*/README.md", "docs/**/*.md")
    for path in _PACKAGES.parent.glob(pattern)
)


@pytest.mark.parametrize("page", _PAGES)
def test_examples_import_only_what_users_can_install(page: str) -> None:
    # A README is a registry page: an example importing repository tooling fails for everyone
    # who copies it (the KurrentDB README once started with the unpublished emulator).
    unpublished = _unpublished_imports()
    imported = _imported_modules(_PACKAGES.parent / page)
    wrong = {module: unpublished[module] for module in imported if module in unpublished}
    assert wrong == {}
