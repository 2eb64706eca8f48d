"""`typecheck_docs.py`: a page that defines a class again is checked as one module per release."""

from __future__ import annotations

import textwrap
from pathlib import Path
from types import ModuleType

import pytest

_RELEASE_1 = """\
# Prices

```python
from dataclasses import dataclass


@dataclass
class Price:  # release 1
    amount: int


first = Price(amount=12)
```
"""

_RELEASE_2 = """
The next release:

{marker}
```python
@dataclass
class Price:  # release 2
    cents: int


assert Price(cents=first.amount * 100).cents == 1200
```
"""


@pytest.fixture
def page(tool: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Markdown file in a repository of its own (the extraction names files relative to it)."""
    monkeypatch.setattr(tool.doc_extraction(), "REPO", tmp_path)
    return tmp_path / "page.md"


def _check(tool: ModuleType, page: Path, markdown: str) -> tuple[list[Path], str]:
    page.write_text(markdown, encoding="utf-8")
    modules = tool.write_modules(page.parent, page)
    result = tool.run_mypy([str(module) for module in modules])
    return modules, result.stdout + result.stderr


def test_a_class_defined_again_in_one_module_is_an_error(tool: ModuleType, page: Path) -> None:
    _, report = _check(tool, page, _RELEASE_1 + _RELEASE_2.format(marker=""))
    assert '"Price" already defined' in report
    assert 'Unexpected keyword argument "cents"' in report


def test_a_marked_block_is_a_module_of_its_own(tool: ModuleType, page: Path) -> None:
    marker = "<!-- typecheck: new-module (release 2 of Price) -->"
    modules, report = _check(tool, page, _RELEASE_1 + _RELEASE_2.format(marker=marker))
    assert len(modules) == 2
    assert "Success: no issues found in 2 source files" in report, report


@pytest.mark.parametrize(
    ("markdown", "message"),
    [
        (
            _RELEASE_1 + _RELEASE_2.format(marker="<!-- typecheck: newmodule -->"),
            "write <!-- typecheck: new-module",
        ),
        (
            _RELEASE_1.replace("```python", "<!-- typecheck: new-module -->\n```python"),
            "a new module needs blocks before it",
        ),
        (
            _RELEASE_1 + "\n<!-- typecheck: new-module -->\n\nSome prose.\n",
            "must stand right before a checked block",
        ),
    ],
    ids=["misspelt", "before-the-first-block", "before-no-block"],
)
def test_a_misplaced_or_misspelt_marker_fails(
    tool: ModuleType, page: Path, markdown: str, message: str
) -> None:
    page.write_text(markdown, encoding="utf-8")
    with pytest.raises(tool.MarkerError, match=message):
        tool.write_modules(page.parent, page)


def test_bound_names_are_those_of_the_top_level(tool: ModuleType) -> None:
    source = textwrap.dedent(
        """
        import os.path
        from typing import Any as Whatever
        from __future__ import annotations

        def f(local: int) -> None:
            inner = local

        class C:
            attribute = 1

        with open(os.devnull) as handle, open(os.devnull) as (other):
            pass
        for index in range(2):
            squares = [square * square for square in range(index)]
        try:
            pass
        except ValueError as error:
            pass
        counted = lambda argument: argument
        """
    )
    assert tool.bound_names(source) == {
        "os", "Whatever", "f", "C", "handle", "other", "index", "squares", "error", "counted"
    }  # fmt: skip
