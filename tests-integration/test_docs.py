"""Every example in the READMEs and in docs/ runs, so the documentation cannot drift.

- `docs/quickstart.py` runs as a script, and its output is checked line by line.
- Every fenced ```python block of `README.md`, `packages/*/README.md` and `docs/**/*.md` is
  executed: the blocks of one file run in order, in one namespace, in a fresh interpreter whose
  working directory is an empty temporary folder (a user pasting them into a script). Line
  numbers in tracebacks are the Markdown file's own.
- If a file's blocks define pytest tests (``test_*`` functions, ``Test*`` classes), those tests
  are then run by pytest, so a test shown in the docs is a test that passes.
- A block preceded by ``<!-- not-executed: reason -->`` is skipped (for a server nobody has
  locally); one preceded by ``<!-- executed-by: test_name -->`` is run by that test of this
  module instead (the Alembic recipe runs inside Alembic's own ``env.py``).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "docs" / "quickstart.py"
PYTHON_LANGUAGES = {"python", "py", "python3"}

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
_DIRECTIVE = re.compile(
    r"^\s*<!--\s*(?P<kind>not-executed|executed-by)\s*:\s*(?P<arg>.*?)\s*-->\s*$"
)
_BAD_DIRECTIVE = re.compile(r"<!--\s*(not-executed|executed-by)\b(?!\s*:\s*\S)")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown file."""

    path: Path
    language: str
    first_line: int  # 1-based line number of the block's first code line
    code: str
    directive: tuple[str, str] | None  # ("not-executed", reason) / ("executed-by", test name)

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.first_line}"


def markdown_files() -> list[Path]:
    files = [REPO / "README.md", *REPO.glob("packages/*/README.md"), *REPO.glob("docs/**/*.md")]
    return sorted({path.resolve() for path in files if path.is_file()})


def code_blocks(path: Path) -> list[Block]:
    """The fenced blocks of `path`, with the directive comment right before each, if any."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        language = (opening["info"].split() or [""])[0].lower()
        previous = next((line for line in reversed(lines[:index]) if line.strip()), "")
        directive = _DIRECTIVE.match(previous)
        end = index + 1
        while end < len(lines) and not (
            lines[end].strip().startswith(fence[0] * len(fence)) and not lines[end].strip("`~ ")
        ):
            end += 1
        if end == len(lines):
            raise AssertionError(f"{path}:{index + 1}: code block is never closed")
        body = [
            line[indent:] if line[:indent].isspace() else line for line in lines[index + 1 : end]
        ]
        blocks.append(
            Block(
                path=path,
                language=language,
                first_line=index + 2,
                code=textwrap.dedent("\n".join(body)) + "\n",
                directive=(directive["kind"], directive["arg"]) if directive else None,
            )
        )
        index = end + 1
    return blocks


def python_blocks(path: Path) -> list[Block]:
    return [block for block in code_blocks(path) if block.language in PYTHON_LANGUAGES]


def _param(path: Path) -> object:
    return pytest.param(path, id=str(path.relative_to(REPO)))


# Runs in a fresh interpreter: executes the blocks given as JSON in the namespace of __main__,
# compiled with the Markdown file as file name and padded so that line numbers match it.
_DRIVER = textwrap.dedent(
    """
    import json, sys, traceback, __main__
    blocks = json.load(open(sys.argv[1], encoding="utf-8"))
    namespace = __main__.__dict__
    for block in blocks:
        source = "\\n" * (block["first_line"] - 1) + block["code"]
        try:
            exec(compile(source, block["path"], "exec"), namespace)
        except BaseException:
            traceback.print_exc()
            print(f"DOC BLOCK FAILED: {block['where']}", file=sys.stderr)
            sys.exit(1)
    tests = sorted(
        name for name, value in namespace.items()
        if (name.startswith("test") and callable(value) and not isinstance(value, type))
        or (name.startswith("Test") and isinstance(value, type))
    )
    print("DOC TESTS: " + json.dumps(tests))
    """
)


def _run(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"}
    env.pop("PYTHONPATH", None)  # the examples see what an installed user sees, not our tests
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _as_test_module(blocks: list[Block], path: Path) -> str:
    """The blocks as one module whose line numbers are the Markdown file's."""
    lines: list[str] = []
    for block in blocks:
        lines.extend([""] * (block.first_line - 1 - len(lines)))
        lines.extend(block.code.splitlines())
    return f"# Generated from {path.relative_to(REPO)} by tests-integration/test_docs.py\n" + (
        "\n".join(lines[1:]) + "\n"
    )


# --- the quickstart ---------------------------------------------------------------------------

_QUICKSTART_LINES = [
    r"Event Sourcery quickstart on SQLite file .*bank\.sqlite3",
    r"Opened stream [0-9a-f-]{36} in category 'account'",
    r"Concurrency:",
    r"  session A and session B both loaded version 3",
    r"  session A withdrew 50 and committed: version 4",
    r"  session B was refused \(ConcurrentStreamWriteError\): it expected version 3, "
    r"the stream is at 4",
    r"  session B reloaded version 4, balance 20, and decided again",
    r"  session B withdrew 15 and committed: version 5",
    r"Stream, loaded by a new session:",
    r"  v1 AccountOpened\(owner='Alice'\)",
    r"  v2 Deposited\(amount=100\)",
    r"  v3 Withdrawn\(amount=30\)",
    r"  v4 Withdrawn\(amount=50\)",
    r"  v5 Withdrawn\(amount=15\)",
    r"Balance: 5 at version 5",
]


def _check_quickstart_output(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, f"quickstart failed:\n{result.stdout}\n{result.stderr}"
    lines = result.stdout.splitlines()
    assert len(lines) == len(_QUICKSTART_LINES), result.stdout
    for line, pattern in zip(lines, _QUICKSTART_LINES, strict=True):
        assert re.fullmatch(pattern, line), f"{line!r} does not match {pattern!r}\n{result.stdout}"


def test_quickstart_runs_in_a_temporary_database(tmp_path: Path) -> None:
    result = _run([sys.executable, str(QUICKSTART)], cwd=tmp_path)
    _check_quickstart_output(result)
    assert list(tmp_path.iterdir()) == [], "without an argument the quickstart leaves no files"


def test_quickstart_on_a_given_file_can_run_again(tmp_path: Path) -> None:
    database = tmp_path / "bank.sqlite3"
    for _ in range(2):  # the second run finds the tables and streams of the first
        _check_quickstart_output(_run([sys.executable, str(QUICKSTART), str(database)], tmp_path))
    assert database.is_file()


# --- Markdown code blocks ---------------------------------------------------------------------


def runnable_blocks(path: Path) -> list[Block]:
    return [block for block in python_blocks(path) if block.directive is None]


@pytest.mark.parametrize(
    "path", [_param(path) for path in markdown_files() if runnable_blocks(path)]
)
def test_python_blocks_run(path: Path, tmp_path: Path) -> None:
    blocks = runnable_blocks(path)
    payload = tmp_path.parent / f"{tmp_path.name}-blocks.json"
    payload.write_text(
        json.dumps(
            [
                {"path": str(b.path), "where": b.where, "first_line": b.first_line, "code": b.code}
                for b in blocks
            ]
        ),
        encoding="utf-8",
    )
    result = _run([sys.executable, "-c", _DRIVER, str(payload)], cwd=tmp_path)
    assert result.returncode == 0, (
        f"a Python block of {path.relative_to(REPO)} failed:\n{result.stdout}\n{result.stderr}"
    )

    marker = [line for line in result.stdout.splitlines() if line.startswith("DOC TESTS: ")]
    assert marker, result.stdout
    if json.loads(marker[-1].removeprefix("DOC TESTS: ")):
        _run_doc_tests(blocks, path, tmp_path)


def _run_doc_tests(blocks: list[Block], path: Path, tmp_path: Path) -> None:
    folder = tmp_path / "doc-tests"
    folder.mkdir()
    (folder / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    module = folder / f"test_{re.sub(r'[^a-z0-9]+', '_', path.stem.lower())}_examples.py"
    module.write_text(_as_test_module(blocks, path), encoding="utf-8")
    result = _run([sys.executable, "-m", "pytest", "-q", module.name], cwd=folder)
    assert result.returncode == 0, (
        f"the tests shown in {path.relative_to(REPO)} fail:\n{result.stdout}\n{result.stderr}"
    )
    assert re.search(r"\b\d+ passed\b", result.stdout), result.stdout


@pytest.mark.parametrize("path", [_param(path) for path in markdown_files()])
def test_blocks_are_labelled_and_directives_valid(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    malformed = _BAD_DIRECTIVE.findall(text)
    assert not malformed, (
        f"{path}: write <!-- not-executed: reason --> / <!-- executed-by: test -->"
    )
    for block in code_blocks(path):
        assert block.language, f"{block.where}: say the block's language (```python, ```sh, ...)"
        if block.directive is None:
            continue
        kind, argument = block.directive
        assert block.language in PYTHON_LANGUAGES, f"{block.where}: {kind} is for Python blocks"
        if kind == "executed-by":
            assert argument.startswith("test_"), f"{block.where}: {argument!r} is not a test"
            assert argument in globals(), f"{block.where}: {__name__} has no {argument}"


def test_readme_setup_commands_are_the_two_ci_runs() -> None:
    """.ci/run executes the README's set-up block line by line; keep it to the two commands."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = re.search(
        r"<!-- setup-commands:begin.*?-->(.*?)<!-- setup-commands:end -->", text, re.S
    )
    assert section, "README.md lost its setup-commands markers, which .ci/run reads"
    commands = [
        line.strip()
        for line in section[1].splitlines()
        if line.strip() and not line.lstrip().startswith(("```", "#"))
    ]
    assert commands == ["uv run python docs/quickstart.py", "uv run pytest -n auto"]


# --- the Alembic recipe of docs/sqlalchemy.md -------------------------------------------------

_MODELS = '''\
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """The application's declarative base."""
'''


def test_alembic_recipe(tmp_path: Path) -> None:
    """Run docs/sqlalchemy.md's Alembic steps: init, env.py edit, autogenerate, upgrade."""
    doc = REPO / "docs" / "sqlalchemy.md"
    snippets = [
        b for b in python_blocks(doc) if b.directive == ("executed-by", "test_alembic_recipe")
    ]
    assert len(snippets) == 1, "docs/sqlalchemy.md should show exactly one env.py snippet"
    commands = [
        line.strip().removeprefix("$").strip()
        for block in code_blocks(doc)
        if block.language in {"console", "sh", "shell", "bash"}
        for line in block.code.splitlines()
        if line.strip().removeprefix("$").strip().startswith("alembic ")
    ]
    assert [command.split()[:2] for command in commands] == [
        ["alembic", "init"],
        ["alembic", "revision"],
        ["alembic", "upgrade"],
    ], commands

    (tmp_path / "myapp").mkdir()
    (tmp_path / "myapp" / "__init__.py").write_text("")
    (tmp_path / "myapp" / "models.py").write_text(_MODELS)

    def alembic(command: str) -> None:
        args = [sys.executable, "-m", *shlex.split(command)]
        result = _run(args, cwd=tmp_path)
        assert result.returncode == 0, f"$ {command}\n{result.stdout}\n{result.stderr}"

    alembic(commands[0])  # alembic init migrations
    ini = tmp_path / "alembic.ini"
    ini.write_text(
        re.sub(
            r"(?m)^sqlalchemy\.url = .*$", "sqlalchemy.url = sqlite:///app.sqlite3", ini.read_text()
        )
    )
    env_py = next(tmp_path.glob("*/env.py"))
    generated = env_py.read_text()
    assert "target_metadata = None" in generated, "Alembic's env.py template changed"
    env_py.write_text(generated.replace("target_metadata = None", snippets[0].code, 1))

    for command in commands[1:]:
        alembic(command)

    revisions = list(tmp_path.glob("*/versions/*.py"))
    assert len(revisions) == 1
    assert "create_table" in revisions[0].read_text(), "autogenerate found no tables"
    _check_migrated_database(tmp_path)


_USE_MIGRATED = """\
from sqlalchemy import create_engine, inspect
from sqlalchemy.orm import DeclarativeBase, Session

from event_sourcery import Event, StreamId
from event_sourcery_sqlalchemy import SQLAlchemyBackend, configure_models


class Base(DeclarativeBase):
    pass


class Migrated(Event):
    ok: bool


configure_models(Base)
engine = create_engine("sqlite:///app.sqlite3")
missing = set(Base.metadata.tables) - set(inspect(engine).get_table_names())
assert not missing, f"the migration did not create {missing}"
with Session(engine) as session:  # no create_all: the migrated schema must be enough
    store = SQLAlchemyBackend(session).event_store
    stream = StreamId()
    store.append(Migrated(ok=True), stream_id=stream)
    session.commit()
    assert [e.event.ok for e in store.load_stream(stream)] == [True]
print("migrated schema works")
"""


def _check_migrated_database(folder: Path) -> None:
    result = _run([sys.executable, "-c", _USE_MIGRATED], cwd=folder)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert "migrated schema works" in result.stdout
