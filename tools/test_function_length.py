"""`function_length.py`: which functions it finds too long, how it counts, what it prints."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path
from types import ModuleType

import pytest


def _function(name: str, body_lines: int, indent: str = "") -> str:
    body = "".join(f"{indent}    x{line} = {line}\n" for line in range(body_lines))
    return f"{indent}def {name}() -> None:\n{body}"


def test_a_function_is_counted_from_def_to_its_last_line(tool: ModuleType, tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import os\n\n\n" + _function("fits", 59) + "\n\n" + _function("long", 60))

    (offender,) = tool.long_functions(module)

    assert (offender.name, offender.line, offender.lines) == ("long", 66, 61)
    assert str(offender) == f"{module}:66: long is 61 lines (at most 60)"


def test_methods_nested_functions_and_async_ones_are_named_by_their_scope(
    tool: ModuleType, tmp_path: Path
) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "class Outer:\n"
        + _function("method", 3, indent="    ")
        + "\n"
        + textwrap.indent(_function("holder", 1), "    ")
        + textwrap.indent(_function("inner", 5), "        ")
        + "\nasync "
        + _function("waits", 4)
    )

    found = {name: lines for name, _, lines in tool.functions(ast.parse(module.read_text()))}

    assert found == {"Outer.method": 4, "Outer.holder": 8, "Outer.holder.inner": 6, "waits": 5}
    assert [f.name for f in tool.long_functions(module, 5)] == [
        "Outer.holder",
        "Outer.holder.inner",
    ]


def test_main_prints_every_offender_and_fails(
    tool: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text(_function("first", 70))
    (tmp_path / "pkg" / "b.py").write_text(_function("second", 61) + _function("short", 2))
    (tmp_path / "notes.txt").write_text("not python")

    assert tool.main([str(tmp_path)]) == 1

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("a.py:1: first is 71 lines (at most 60)")
    assert lines[1].endswith("b.py:1: second is 62 lines (at most 60)")
    assert lines[2] == "2 function(s) over 60 lines: split each into smaller ones"


def test_main_passes_on_short_functions_and_honours_max(
    tool: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = tmp_path / "m.py"
    module.write_text(_function("short", 9))

    assert tool.main([str(module)]) == 0
    assert capsys.readouterr().out == ""
    assert tool.main(["--max", "9", str(module)]) == 1
    assert "short is 10 lines (at most 9)" in capsys.readouterr().out


def test_a_file_that_does_not_parse_is_a_usage_error(
    tool: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = tmp_path / "broken.py"
    module.write_text("def (:\n")

    assert tool.main([str(module)]) == 2
    assert "does not parse" in capsys.readouterr().err
