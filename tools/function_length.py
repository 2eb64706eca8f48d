"""Fail if a function of the shipped code is longer than 60 lines.

ruff checks complexity (C901, at most 10 branches) and statement counts (PLR0915), but not
length: a long function of straight-line statements (a table of columns, a chain of string
building) passes both and still hides a second idea. This counts the lines of every function
and method, from its ``def`` line to its last line, docstring, comments and blank lines
included (a nested function counts towards its parent too), in ``packages/*/src`` unless
paths are given, and prints each offender as ``path:line: name is N lines (at most 60)``.

Run: ``uv run python tools/function_length.py [--max N] [PATH ...]`` (PATH a file or a folder;
exit status: 0 none too long, 1 some, 2 a file that does not parse).
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: The longest function allowed, in lines.
MAX_LINES = 60


@dataclass(frozen=True)
class LongFunction:
    """A function over `limit`: where it starts, its qualified name and its length."""

    path: Path
    line: int
    name: str
    lines: int
    limit: int = MAX_LINES

    def __str__(self) -> str:
        try:
            shown = self.path.relative_to(REPO)
        except ValueError:
            shown = self.path
        return f"{shown}:{self.line}: {self.name} is {self.lines} lines (at most {self.limit})"


def functions(tree: ast.AST, scope: str = "") -> Iterator[tuple[str, ast.AST, int]]:
    """Every function in `tree` with its qualified name, its node and its length in lines."""
    for node in ast.iter_child_nodes(tree):
        name = getattr(node, "name", "")
        inner = f"{scope}.{name}" if scope and name else name or scope
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            end = node.end_lineno if node.end_lineno is not None else node.lineno
            yield inner, node, end - node.lineno + 1
        yield from functions(node, inner)


def long_functions(path: Path, limit: int = MAX_LINES) -> list[LongFunction]:
    """The functions of the Python file `path` longer than `limit` lines, in source order."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        LongFunction(path, getattr(node, "lineno", 0), name, length, limit)
        for name, node, length in functions(tree)
        if length > limit
    ]


def python_files(paths: Sequence[Path]) -> list[Path]:
    """The ``.py`` files of `paths` (files, or folders searched recursively), sorted."""
    found: set[Path] = set()
    for path in paths:
        found |= set(path.rglob("*.py")) if path.is_dir() else {path}
    return sorted(found)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=MAX_LINES, help="the longest allowed")
    parser.add_argument("paths", nargs="*", type=Path, help="files or folders to check")
    options = parser.parse_args(argv)
    paths = options.paths or sorted(REPO.glob("packages/*/src"))
    offenders: list[LongFunction] = []
    for path in python_files(paths):
        try:
            offenders += long_functions(path, options.max)
        except SyntaxError as error:
            print(f"{path}: does not parse: {error}", file=sys.stderr)
            return 2
    for offender in offenders:
        print(offender)
    if offenders:
        print(
            f"{len(offenders)} function(s) over {options.max} lines: split each into smaller ones"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
