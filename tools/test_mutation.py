"""`mutation.py`: which mutants it makes, how it applies one, and what it reads and reports."""

from __future__ import annotations

import ast
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SOURCE = textwrap.dedent(
    '''\
    """Docstring: never mutated."""

    __all__ = ["clamp"]
    LIMIT: int = 10


    def clamp(value: int, *, strict: bool = False) -> int:
        """Clamp `value` to LIMIT."""
        assert isinstance(value, int)
        if value > LIMIT and not strict:
            return LIMIT
        return value + 0
    '''
)


def _run(tool: ModuleType, source: str, index: int, call: str) -> Any:
    namespace: dict[str, Any] = {}
    exec(compile(tool.mutated_tree(source, index), "<mutant>", "exec"), namespace)
    return eval(call, namespace)


def _changes(tool: ModuleType) -> list[tuple[str, str]]:
    return [(m.original, m.mutated) for m in tool.mutants(SOURCE, "m.py")]


def test_every_operator_makes_its_mutants(tool: ModuleType) -> None:
    changes = _changes(tool)
    assert ("value > LIMIT", "value >= LIMIT") in changes
    assert ("value > LIMIT and not strict", "value > LIMIT or not strict") in changes
    assert ("10", "11") in changes
    assert ("10", "9") in changes
    assert ("False", "True") in changes
    assert ("value > LIMIT and not strict", "True") in changes
    assert ("value > LIMIT and not strict", "False") in changes
    assert ("return LIMIT", "return None") in changes
    assert ("value + 0", "value - 0") in changes
    assert ("not strict", "strict") in changes


def test_docstrings_annotations_asserts_and_all_are_left_alone(tool: ModuleType) -> None:
    texts = " ".join(f"{original} {mutated}" for original, mutated in _changes(tool))
    assert "Docstring" not in texts
    assert "Clamp" not in texts
    assert "isinstance" not in texts
    assert "clamp" not in texts  # __all__
    assert "int" not in texts  # annotations


def test_a_mutant_changes_only_what_it_says(tool: ModuleType) -> None:
    found = tool.mutants(SOURCE, "m.py")
    (none,) = [m.index for m in found if m.original == "return LIMIT"]
    assert _run(tool, SOURCE, none, "clamp(50)") is None
    assert _run(tool, SOURCE, none, "clamp(5)") == 5
    (dropped,) = [m.index for m in found if m.mutated == "strict"]
    assert _run(tool, SOURCE, dropped, "clamp(50)") == 50  # `not` dropped: strict=False keeps 50
    assert _run(tool, SOURCE, dropped, "clamp(50, strict=True)") == 10
    (limit,) = [m.index for m in found if m.mutated == "11"]
    assert _run(tool, SOURCE, limit, "clamp(50)") == 11
    assert _run(tool, SOURCE, 0, "clamp(50)") == _run(tool, SOURCE, 0, "clamp(50)")  # deterministic


def test_mutated_code_keeps_the_original_line_numbers(tool: ModuleType) -> None:
    tree = tool.mutated_tree(SOURCE, 0)
    returns = sorted(node.lineno for node in ast.walk(tree) if isinstance(node, ast.Return))
    assert returns == [11, 12]


def test_keys_survive_code_moving_and_tell_repeats_apart(tool: ModuleType) -> None:
    moved = "\n\n\n" + SOURCE
    keys = [m.key for m in tool.mutants(SOURCE, "m.py")]
    assert [m.key for m in tool.mutants(moved, "m.py")] == keys
    assert tool.mutants(moved, "m.py")[0].line == tool.mutants(SOURCE, "m.py")[0].line + 3
    assert "m.py::clamp::value > LIMIT -> value >= LIMIT" in keys
    twice = "def f(a):\n    return a + 1 + 1\n"
    repeated = [m.key for m in tool.mutants(twice, "t.py") if m.mutated == "2"]
    assert repeated == ["t.py::f::1 -> 2", "t.py::f::1 -> 2 #2"]
    assert len(set(keys)) == len(keys)


def test_module_name_is_the_import_name_under_src(tool: ModuleType) -> None:
    assert tool.module_name("packages/a/src/pkg/_mod.py") == "pkg._mod"
    with pytest.raises(SystemExit, match="not under a src/ folder"):
        tool.module_name("tools/mutation.py")


def test_the_import_hook_puts_the_mutant_in_place_of_the_module(
    tool: ModuleType, tmp_path: Path
) -> None:
    package = tmp_path / "src" / "es_mutation_demo"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    module = package / "_clamp.py"
    module.write_text(SOURCE)
    (index,) = [m.index for m in tool.mutants(SOURCE, "x") if m.mutated == "strict"]
    code = compile(tool.mutated_tree(SOURCE, index), str(module), "exec")
    finder = tool._MutantFinder("es_mutation_demo._clamp", module, code)
    sys.path.insert(0, str(tmp_path / "src"))
    sys.meta_path.insert(0, finder)
    try:
        import es_mutation_demo._clamp as mutated  # type: ignore[import-not-found]

        assert mutated.clamp(50) == 50
        assert mutated.__file__ == str(module)
    finally:
        sys.meta_path.remove(finder)
        sys.path.remove(str(tmp_path / "src"))
        for name in ("es_mutation_demo._clamp", "es_mutation_demo"):
            sys.modules.pop(name, None)


def test_scores_leave_equivalents_out_or_count_them(tool: ModuleType) -> None:
    mutant = tool.mutants(SOURCE, "m.py")[0]
    result = tool.Result("m.py", 10, killed=[mutant] * 8, equivalent=[mutant], survived=[mutant])
    assert result.score == pytest.approx(100 * 8 / 9)
    assert result.score_all == pytest.approx(80.0)
    assert "| `m.py` | 10 | 8 | 1 | 1 | 89% | 80% |" in tool.table([result])
    assert tool.Result("empty.py", 0).score == 100.0


def test_the_configured_modules_exist_and_every_equivalent_matches_a_mutant(
    tool: ModuleType,
) -> None:
    # A stale equivalent (its code changed) would silently excuse nothing, or a new survivor.
    config = tool.load_config()
    assert config.min_score >= 90
    keys = set()
    for path, tests in config.modules.items():
        assert (tool.ROOT / path).is_file(), path
        assert tests, path
        tool.module_name(path)
        keys |= {m.key for m in tool.mutants((tool.ROOT / path).read_text(), path)}
    stale = sorted(set(config.equivalents) - keys)
    assert stale == []
    assert all(reason.strip() and "\n" not in reason for reason in config.equivalents.values())
