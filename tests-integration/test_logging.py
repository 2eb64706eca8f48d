"""The library logs through its named loggers only, each documented, none printing by itself.

Retry warnings of the KurrentDB backend used to reach Python's last-resort handler, which
prints on stderr of an application that configured no logging.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LOGGING_DOC = REPO / "docs" / "logging.md"
_GET_LOGGER = re.compile(r"""logging\.getLogger\(\s*["']([\w.]+)["']\s*\)""")
_ROOT_CALL = re.compile(r"\blogging\.(debug|info|warning|error|exception|critical|log)\(")


def _sources() -> list[Path]:
    return sorted(REPO.glob("packages/*/src/**/*.py"))


def _library_loggers() -> dict[str, str]:
    """Each logger name the library's code creates, with the module that creates it."""
    found: dict[str, str] = {}
    for path in _sources():
        for name in _GET_LOGGER.findall(path.read_text(encoding="utf-8")):
            src = next(parent for parent in path.parents if parent.name == "src")
            found[name] = ".".join(path.relative_to(src).with_suffix("").parts)
    return found


def test_the_library_logs_through_named_loggers_only() -> None:
    offenders = [
        f"{path.relative_to(REPO)}: logging.{call}(...)"
        for path in _sources()
        for call in _ROOT_CALL.findall(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, "the root logger is the application's, not the library's"


def test_every_logger_is_documented_in_one_place() -> None:
    loggers = _library_loggers()
    documented = set(re.findall(r"^\| `([\w.]+)` \|", LOGGING_DOC.read_text(), re.MULTILINE))
    assert loggers, "no logger found: the pattern is out of date"
    assert set(loggers) == documented


@pytest.mark.parametrize("name", sorted(_library_loggers()))
def test_nothing_is_printed_when_the_application_configured_no_logging(name: str) -> None:
    module = _library_loggers()[name]
    probe = textwrap.dedent(
        f"""
        import importlib, logging
        importlib.import_module({module!r})
        logging.getLogger({name!r}).error("probe: this must not reach stderr")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "probe" not in done.stderr
