"""Type-check the documentation's Python blocks with ``mypy --strict``.

Users copy the examples of `README.md`, `packages/*/README.md` and `docs/**/*.md` into code
that their own ``mypy --strict`` checks, so an example that does not type-check is a bug, and
any error fails this check.
The blocks are the ones `tests-integration/test_docs.py` executes (its extraction is reused,
so both agree on what a block is): the blocks of one Markdown file become one module, padded
so that mypy's line numbers are the Markdown file's, and mypy's report names the Markdown
files. Blocks marked ``<!-- not-executed: ... -->`` or ``<!-- executed-by: ... -->`` are
fragments of other files and are left out, as they are from the run.

A page may define a class again on purpose: `docs/schema-evolution.md` shows the same event
before and after a change, as two releases of one code base would have it. Python runs that
(the later class replaces the earlier one), but one module cannot say it to mypy, which keeps
the first definition and reports the second (``no-redef``). So a block preceded by

    <!-- typecheck: new-module (why, e.g. "release 2 of PriceSet") -->

starts a new module: it and the blocks after it (up to the next such marker) are checked as a
module of their own, which imports from the module before it every name the earlier blocks
bound except the names its own blocks bind. The later class then simply is the class of its
module, as in the later release, with no ``type: ignore``. The run of the page is unchanged:
`test_docs.py` still executes every block in order, in one namespace. A marker that is
misspelt or stands before anything but a checked block fails the check.

Run: ``uv run python tools/typecheck_docs.py`` (exit status: 0 clean, 1 errors, 2 no result).
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[1]

#: The marker that starts a new module (see the docstring); any other ``typecheck`` comment
#: is a mistake.
_NEW_MODULE = re.compile(r"^\s*<!--\s*typecheck\s*:\s*new-module\b[^>]*-->\s*$")
_ANY_MARKER = re.compile(r"<!--\s*typecheck\b")


class MarkerError(Exception):
    """A ``typecheck`` marker that is malformed or does not stand before a checked block."""


@functools.cache
def doc_extraction() -> ModuleType:
    """`tests-integration/test_docs.py`, imported by path (the folder is not a package)."""
    path = REPO / "tests-integration" / "test_docs.py"
    spec = importlib.util.spec_from_file_location("_es_test_docs", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


def bound_names(source: str) -> set[str]:
    """The names the top level of `source` binds (not those local to its functions)."""
    names: set[str] = set()
    pending: list[ast.AST] = [ast.parse(source)]
    while pending:
        for node in ast.iter_child_nodes(pending.pop()):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)  # its body has a scope of its own
            elif isinstance(node, ast.Import | ast.ImportFrom):
                if not (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
                    names.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif not isinstance(node, ast.Lambda | ast.ListComp | ast.SetComp | ast.DictComp):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    names.add(node.id)
                elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar):
                    names.update([node.name] if node.name else [])
                pending.append(node)
    names.discard("*")
    return names


def sections(path: Path, blocks: list[Any]) -> list[list[Any]]:
    """`blocks` (of the Markdown file `path`) cut into modules at each new-module marker."""
    lines = path.read_text(encoding="utf-8").splitlines()
    markers = set()
    for number, line in enumerate(lines, start=1):
        if _ANY_MARKER.search(line):
            if not _NEW_MODULE.match(line):
                raise MarkerError(f"{path}:{number}: write <!-- typecheck: new-module (why) -->")
            markers.add(number)
    cut: list[list[Any]] = []
    for block in blocks:
        fence = block.first_line - 1  # the opening fence's line number
        before = next((n for n in range(fence - 1, 0, -1) if lines[n - 1].strip()), 0)
        if before in markers:
            if not cut:
                raise MarkerError(f"{path}:{before}: a new module needs blocks before it")
            markers.remove(before)
            cut.append([])
        elif not cut:
            cut.append([])
        cut[-1].append(block)
    if markers:
        where = ", ".join(f"{path}:{number}" for number in sorted(markers))
        raise MarkerError(f"{where}: a new-module marker must stand right before a checked block")
    return cut


def write_modules(folder: Path, markdown: Path) -> list[Path]:
    """The modules checking `markdown`'s runnable blocks (none if it has none), in order."""
    docs = doc_extraction()
    slug = re.sub(r"[^A-Za-z0-9]+", "_", str(markdown.relative_to(docs.REPO))).lower()
    cut = sections(markdown, docs.runnable_blocks(markdown))
    modules: list[Path] = []
    earlier: set[str] = set()  # the names that the blocks before this module bind
    for section in cut:
        lines = docs._as_test_module(section, markdown).split("\n")
        own = {name for block in section for name in bound_names(block.code)}
        if len(cut) > 1:  # the next module may import a name this one imported
            lines[0] = "# mypy: implicit-reexport"
        if modules and earlier - own:
            assert not lines[1], "a later module's first block is below an earlier block"
            imported = ", ".join(f"{name} as {name}" for name in sorted(earlier - own))
            lines[1] = f"from {modules[-1].stem} import {imported}"
        modules.append(folder / f"doc_{slug}{f'__{len(modules)}' if modules else ''}.py")
        modules[-1].write_text("\n".join(lines), encoding="utf-8")
        earlier |= own
    return modules


def run_mypy(files: list[str]) -> subprocess.CompletedProcess[str]:
    """``mypy --strict`` over `files`, with the repository's configuration (its plugins)."""
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *files],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="es-doc-types-") as folder:
        modules: dict[str, str] = {}  # module file: the Markdown file it checks
        try:
            for page in doc_extraction().markdown_files():
                for file in write_modules(Path(folder), page):
                    modules[str(file)] = str(page.relative_to(REPO))
        except MarkerError as error:
            print(f"FAILED: {error}")
            return 1
        result = run_mypy(list(modules))
    report = result.stdout + result.stderr
    for module, markdown in modules.items():
        report = report.replace(module, markdown)
    print(report, end="")
    failing = sorted({line.split(":", 1)[0] for line in report.splitlines() if ": error: " in line})
    if result.returncode not in (0, 1) or (result.returncode == 1 and not failing):
        print("mypy did not run to the end")
        return 2
    print(f"type-checked the Python blocks of {len(set(modules.values()))} Markdown files")
    if failing:
        print(f"FAILED: examples that do not type-check in {', '.join(failing)}")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
