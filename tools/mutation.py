"""Mutation testing of the modules that decide correctness: do the tests notice a broken rule?

Each mutant is one small change to one module (a comparison swapped, `and` for `or`, an int
constant off by one, a guard's condition replaced by `True` or `False`, a returned value
replaced by `None`, `+` for `-`, a `not` dropped, a bool constant flipped). It is run against
the fast tests configured for that module in `[tool.mutation]` of the root `pyproject.toml`;
a mutant some test fails on is *killed*, one every test passes with *survived*. The mutated
module is compiled in memory and put in front of the real one by an import hook in a child
pytest process, so the source tree is never written to.

Survivors that no test can kill (they change nothing observable) are recorded, each with a
one-line reason, in the equivalents file; the next run counts them apart.

Usage (from the repository root; slow: run it niced, it is not part of `.ci/run`):

    uv run python tools/mutation.py                 # every configured module
    uv run python tools/mutation.py --module _gaps  # modules whose path contains `_gaps`
    uv run python tools/mutation.py --list          # the mutants, without running them

Exit codes: 0 every module meets both scores; 1 some module does not; 2 a usage error or the
tests fail without any mutant.
"""

from __future__ import annotations

import argparse
import ast
import importlib.abc
import importlib.machinery
import importlib.util
import os
import random
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

_SWAPS: dict[type[ast.AST], Any] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.And: ast.Or,
    ast.Or: ast.And,
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
}


@dataclass(frozen=True)
class Mutant:
    """One change to one module; `index` is its place in `mutants(source)`, `key` its identity.

    The key names the enclosing function and the text before and after, not the line, so an
    equivalent recorded once stays recorded while code above it moves.
    """

    path: str
    index: int
    line: int
    scope: str
    original: str
    mutated: str
    occurrence: int = 0

    @property
    def key(self) -> str:
        suffix = f" #{self.occurrence + 1}" if self.occurrence else ""
        return f"{self.path}::{self.scope}::{self.original} -> {self.mutated}{suffix}"


#: How to apply a mutant to the node it is found at (given the parents of every node).
_Apply = Callable[[ast.AST, dict[ast.AST, ast.AST]], None]
#: What a node can become: the text before and after, and how to apply it.
_Change = tuple[str, str, _Apply]
_Text = Callable[[ast.AST], str]


@dataclass(frozen=True)
class _Site:
    node_index: int
    line: int
    scope: str
    original: str
    mutated: str
    apply: _Apply


def _replace_child(parent: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for name, value in ast.iter_fields(parent):
        if value is old:
            setattr(parent, name, new)
            return
        if isinstance(value, list) and any(item is old for item in value):
            value[[id(item) for item in value].index(id(old))] = new
            return
    raise ValueError("node not found in its parent")


def _unmutated_statement(node: ast.AST) -> bool:
    if isinstance(node, ast.Assert):
        return True
    if isinstance(node, ast.If):
        return "TYPE_CHECKING" in ast.unparse(node.test)
    return isinstance(node, ast.Assign) and any(
        isinstance(target, ast.Name) and target.id in ("__all__", "__slots__")
        for target in node.targets
    )


def _skipped(tree: ast.Module) -> set[int]:
    """ids of nodes never mutated: docstrings, annotations, asserts (type narrowing only),
    `__all__`/`__slots__`, and `if TYPE_CHECKING:` blocks."""
    skipped: set[int] = set()

    def skip(node: ast.AST | None) -> None:
        if node is not None:
            skipped.update(id(inner) for inner in ast.walk(node))

    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            skip(first)  # a docstring (or a bare constant: nothing to mutate either way)
        if isinstance(node, ast.AnnAssign | ast.arg):
            skip(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            skip(node.returns)
        elif _unmutated_statement(node):
            skip(node)
    return skipped


def _scopes(tree: ast.Module) -> dict[int, str]:
    """The qualified name of the function or class around every node (`<module>` if none)."""
    scopes: dict[int, str] = {}

    def visit(node: ast.AST, scope: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = scope
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                inner = child.name if scope == "<module>" else f"{scope}.{child.name}"
            scopes[id(child)] = inner
            visit(child, inner)

    visit(tree, "<module>")
    return scopes


def _compare_changes(node: ast.Compare, text: _Text) -> list[_Change]:
    changes: list[_Change] = []
    for position, op in enumerate(node.ops):
        swapped = _SWAPS.get(type(op))
        if swapped is None:
            continue

        def swap_op(n: ast.AST, _: object, p: int = position, s: type = swapped) -> None:
            assert isinstance(n, ast.Compare)
            n.ops[p] = s()

        copy = ast.Compare(node.left, list(node.ops), node.comparators)
        copy.ops[position] = swapped()
        changes.append((text(node), ast.unparse(copy), swap_op))
    return changes


def _operator_changes(node: ast.BoolOp | ast.BinOp | ast.AugAssign, text: _Text) -> list[_Change]:
    swapped = _SWAPS.get(type(node.op))
    if swapped is None:
        return []

    def swap(n: ast.AST, _: object, s: type = swapped) -> None:
        n.op = s()  # type: ignore[attr-defined]

    original = text(node)
    node.op, kept = swapped(), node.op  # unparsed with the swapped operator, then back
    mutated = ast.unparse(node)
    node.op = kept
    return [(original, mutated, swap)]


def _constant_changes(node: ast.Constant, text: _Text) -> list[_Change]:
    if type(node.value) is bool:

        def flip(n: ast.AST, _: object) -> None:
            assert isinstance(n, ast.Constant)
            n.value = not n.value

        return [(repr(node.value), repr(not node.value), flip)]
    if type(node.value) is not int:
        return []
    value: int = node.value
    changes: list[_Change] = []
    for delta in (1, -1):

        def shift(n: ast.AST, _: object, v: int = value + delta) -> None:
            assert isinstance(n, ast.Constant)
            n.value = v

        changes.append((text(node), repr(value + delta), shift))
    return changes


def _condition_changes(node: ast.If | ast.While | ast.IfExp, text: _Text) -> list[_Change]:
    changes: list[_Change] = []
    for forced in (True, False):

        def force(n: ast.AST, _: object, f: bool = forced) -> None:
            n.test = ast.Constant(f)  # type: ignore[attr-defined]

        changes.append((text(node.test), repr(forced), force))
    return changes


def _return_changes(node: ast.Return, text: _Text) -> list[_Change]:
    if node.value is None or (isinstance(node.value, ast.Constant) and node.value.value is None):
        return []

    def to_none(n: ast.AST, _: object) -> None:
        assert isinstance(n, ast.Return)
        n.value = ast.Constant(None)

    return [(f"return {text(node.value)}", "return None", to_none)]


def _not_changes(node: ast.UnaryOp, text: _Text) -> list[_Change]:
    if not isinstance(node.op, ast.Not):
        return []

    def drop_not(n: ast.AST, parents: dict[ast.AST, ast.AST]) -> None:
        assert isinstance(n, ast.UnaryOp)
        _replace_child(parents[n], n, n.operand)

    return [(text(node), text(node.operand), drop_not)]


def _changes(node: ast.AST, text: _Text) -> list[_Change]:
    """The mutants of one node (none for a kind of node no operator applies to)."""
    if isinstance(node, ast.Compare):
        return _compare_changes(node, text)
    if isinstance(node, ast.BoolOp | ast.BinOp | ast.AugAssign):
        return _operator_changes(node, text)
    if isinstance(node, ast.Constant):
        return _constant_changes(node, text)
    if isinstance(node, ast.If | ast.While | ast.IfExp):
        return _condition_changes(node, text)
    if isinstance(node, ast.Return):
        return _return_changes(node, text)
    if isinstance(node, ast.UnaryOp):
        return _not_changes(node, text)
    return []


def _sites(source: str) -> list[_Site]:
    tree = ast.parse(source)
    skipped = _skipped(tree)
    scopes = _scopes(tree)

    def text(node: ast.AST) -> str:
        return ast.get_source_segment(source, node) or ast.unparse(node)

    return [
        _Site(index, getattr(node, "lineno", 0), scopes.get(id(node), "<module>"), *change)
        for index, node in enumerate(ast.walk(tree))
        if id(node) not in skipped
        for change in _changes(node, text)
    ]


def mutants(source: str, path: str) -> list[Mutant]:
    """Every mutant of `source` (the module at repository path `path`), in a stable order."""
    found: list[Mutant] = []
    seen: dict[tuple[str, str, str], int] = {}
    for index, site in enumerate(_sites(source)):
        ident = (site.scope, site.original, site.mutated)
        occurrence = seen.get(ident, 0)
        seen[ident] = occurrence + 1
        found.append(
            Mutant(path, index, site.line, site.scope, site.original, site.mutated, occurrence)
        )
    return found


def mutated_tree(source: str, index: int) -> ast.Module:
    """`source` parsed, with mutant number `index` applied (line numbers kept)."""
    site = _sites(source)[index]
    tree = ast.parse(source)
    nodes = list(ast.walk(tree))
    parents = {child: parent for parent in nodes for child in ast.iter_child_nodes(parent)}
    site.apply(nodes[site.node_index], parents)
    return ast.fix_missing_locations(tree)


class _MutantLoader(importlib.machinery.SourceFileLoader):
    def __init__(self, fullname: str, path: str, code: CodeType) -> None:
        super().__init__(fullname, path)
        self._code = code

    def get_code(self, fullname: str) -> CodeType:  # never the cached bytecode of the original
        return self._code


class _MutantFinder(importlib.abc.MetaPathFinder):
    def __init__(self, module: str, path: Path, code: CodeType) -> None:
        self._module, self._path, self._code = module, path, code

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self._module:
            return None
        loader = _MutantLoader(fullname, str(self._path), self._code)
        return importlib.util.spec_from_file_location(fullname, self._path, loader=loader)


def module_name(path: str) -> str:
    """The import name of a module under a `src/` folder: `a/src/pkg/_mod.py` -> `pkg._mod`."""
    parts = Path(path).with_suffix("").parts
    if "src" not in parts:
        raise SystemExit(f"mutation: {path} is not under a src/ folder")
    return ".".join(parts[parts.index("src") + 1 :])


def _child(path: str, index: int, pytest_args: list[str]) -> int:
    """Run pytest with mutant `index` of `path` imported in place of the module (-1: none)."""
    import hypothesis
    import pytest

    # Deterministic property tests: a mutant is killed or not, the same on every run.
    # No shrinking: a failure kills the mutant, its smallest example is of no use here.
    hypothesis.settings.register_profile(
        "mutation",
        database=None,
        derandomize=True,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    hypothesis.settings.load_profile("mutation")
    if index >= 0:
        file = ROOT / path
        tree = mutated_tree(file.read_text(), index)
        code = compile(tree, str(file), "exec")
        sys.meta_path.insert(0, _MutantFinder(module_name(path), file, code))
    # Plain asserts: pytest's rewriting import hook would go before ours and load the
    # original source of the modules of a pytest plugin (all of event_sourcery_testing).
    return pytest.main(["-x", "-q", "--no-header", "--assert=plain", *pytest_args])


@dataclass
class Config:
    """`[tool.mutation]` of the root pyproject.toml."""

    modules: dict[str, list[str]]
    equivalents: dict[str, str]
    equivalents_file: str
    min_score: float
    min_score_all: float
    timeout_factor: float = 4.0


def load_config(root: Path = ROOT) -> Config:
    """Read the configuration and the equivalent mutants it names."""
    table = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["mutation"]
    equivalents_file = table["equivalents"]
    equivalents_path = root / equivalents_file
    equivalents: dict[str, str] = {}
    if equivalents_path.exists():
        equivalents = tomllib.loads(equivalents_path.read_text()).get("equivalent", {})
    return Config(
        modules=table["modules"],
        equivalents=equivalents,
        equivalents_file=equivalents_file,
        min_score=float(table["min-score"]),
        min_score_all=float(table["min-score-all"]),
    )


@dataclass
class Result:
    """The outcome of one module's run."""

    path: str
    total: int
    killed: list[Mutant] = field(default_factory=list)
    equivalent: list[Mutant] = field(default_factory=list)
    survived: list[Mutant] = field(default_factory=list)

    @property
    def score(self) -> float:
        """Killed out of the mutants that can be killed (equivalents excluded), in percent."""
        killable = len(self.killed) + len(self.survived)
        return 100.0 * len(self.killed) / killable if killable else 100.0

    @property
    def score_all(self) -> float:
        """Killed out of all mutants run, equivalents counted as survivors, in percent."""
        run = len(self.killed) + len(self.survived) + len(self.equivalent)
        return 100.0 * len(self.killed) / run if run else 100.0


def _run(path: str, index: int, tests: list[str], timeout: float | None) -> tuple[int, float]:
    """Exit code of the tests with mutant `index` (-1: none), and seconds taken; a timeout
    counts as a failure (exit 124)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", path, str(index), "--"]
    started = time.monotonic()
    with subprocess.Popen(
        [*command, *tests],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    ) as process:
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            code = 124
    return code, time.monotonic() - started


def table(results: Sequence[Result]) -> str:
    """The report's table, in Markdown."""
    lines = [
        "| module | mutants | killed | equivalent | survived | score | score with equivalents |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| `{r.path}` | {r.total} | {len(r.killed)} | {len(r.equivalent)} | "
            f"{len(r.survived)} | {r.score:.0f}% | {r.score_all:.0f}% |"
        )
    return "\n".join(lines)


def _select(found: list[Mutant], sample: int | None, seed: int) -> list[Mutant]:
    if sample is None or sample >= len(found):
        return found
    return sorted(random.Random(seed).sample(found, sample), key=lambda m: m.index)


def _stale(config: Config, every: dict[str, list[Mutant]]) -> Iterator[str]:
    keys = {m.key for found in every.values() for m in found}
    for key in config.equivalents:
        path = key.split("::", 1)[0]
        if path in every and key not in keys:
            yield key


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", help="only modules whose path contains it")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--sample", type=int, help="run at most this many mutants per module")
    parser.add_argument("--seed", type=int, default=0, help="seed of --sample")
    parser.add_argument("--report", type=Path, help="also write the report (Markdown) here")
    return parser


def _print_list(config: Config, every: dict[str, list[Mutant]]) -> None:
    for found in every.values():
        for m in found:
            mark = "  [equivalent]" if m.key in config.equivalents else ""
            print(f"{m.path}:{m.line}: [{m.index}] {m.original} -> {m.mutated}{mark}")


def _run_module(
    config: Config, path: str, found: list[Mutant], options: argparse.Namespace
) -> Result | None:
    """Every chosen mutant of `path` run against its tests; None if they fail without any."""
    tests = config.modules[path]
    code, baseline = _run(path, -1, tests, None)
    if code != 0:
        print(f"mutation: the tests of {path} fail without any mutant (exit {code})")
        return None
    timeout = max(30.0, baseline * config.timeout_factor)
    chosen = _select(found, options.sample, options.seed)
    result = Result(path, len(chosen))
    for m in chosen:
        if m.key in config.equivalents:
            result.equivalent.append(m)
            continue
        code, _ = _run(path, m.index, tests, timeout)
        (result.survived if code == 0 else result.killed).append(m)
        print(f"{'survived' if code == 0 else 'killed  '} {m.path}:{m.line}: {m.key}")
    return result


def _report(config: Config, results: list[Result], every: dict[str, list[Mutant]]) -> str:
    report = [table(results), ""]
    survivors = [m for r in results for m in r.survived]
    if survivors:
        report.append("Survivors (kill each with a test, or record it as equivalent):")
        report += [f"- {m.path}:{m.line}: {m.key}" for m in survivors]
    stale = list(_stale(config, every))
    if stale:
        report.append(f"Equivalents in {config.equivalents_file} that match no mutant any more:")
        report += [f"- {key}" for key in stale]
    return "\n".join(report)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; see the module docstring."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--child"]:
        return _child(args[1], int(args[2]), args[4:])
    parser = _parser()
    options = parser.parse_args(args)
    config = load_config()
    paths = [p for p in config.modules if not options.module or any(m in p for m in options.module)]
    if not paths:
        parser.error(f"no configured module matches {options.module}")
    every = {path: mutants((ROOT / path).read_text(), path) for path in paths}
    if options.list:
        _print_list(config, every)
        return 0
    results: list[Result] = []
    for path in paths:
        result = _run_module(config, path, every[path], options)
        if result is None:
            return 2
        results.append(result)
    text = _report(config, results, every)
    print(text)
    if options.report:
        options.report.write_text(text + "\n")
    failing = [
        r for r in results if r.score < config.min_score or r.score_all < config.min_score_all
    ]
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
