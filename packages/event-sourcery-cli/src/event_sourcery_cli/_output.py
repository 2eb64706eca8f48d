"""How listings are printed: a table on a terminal, plain lines when piped, JSON on request.

A table only when standard output is a terminal: ``FORCE_COLOR`` (which CI sets) changes the
colours, never the shape of piped output that scripts read. Rich honours ``NO_COLOR``. The
console is made per command, on the ``sys.stdout`` of that moment (a test runner swaps it).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.table import Table

Row = Mapping[str, Any]


def console(*, stderr: bool = False) -> Console:
    """A console on the current standard output (or error)."""
    return Console(file=sys.stderr if stderr else sys.stdout, highlight=False)


def is_tty(out: Console) -> bool:
    """Whether `out` writes to a terminal."""
    isatty = getattr(out.file, "isatty", None)
    return bool(isatty is not None and isatty())


def _text(value: Any) -> str:
    if value is None:
        return "-"
    return value if isinstance(value, str) else json.dumps(value)


def as_json(document: Any) -> str:
    """`document` as one line of JSON."""
    return json.dumps(document, ensure_ascii=False, default=str)


def emit(rows: Sequence[Row], columns: Sequence[str], *, json_output: bool, title: str) -> None:
    """Print `rows`: one JSON document, a table on a terminal, or tab-separated lines.

    Piped output has a header line and one line per row, so ``cut`` and ``awk`` work;
    scripts that want types use ``--json``.
    """
    out = console()
    if json_output:
        out.file.write(as_json(list(rows)) + "\n")
        return
    if not is_tty(out):
        lines = ["\t".join(columns)]
        lines.extend("\t".join(_text(row.get(column)) for column in columns) for row in rows)
        out.file.write("\n".join(lines) + "\n")
        return
    table = Table(title=title, title_justify="left")
    for column in columns:
        # Folded, never cut with an ellipsis: an id is copied from here into the next command.
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(_text(row.get(column)) for column in columns))
    out.print(table)


def emit_record(row: Row, columns: Sequence[str], *, json_output: bool) -> None:
    """Print one row of a live listing: a JSON line, or one line of the columns."""
    out = console()
    if json_output:
        out.file.write(as_json(row) + "\n")
    else:
        out.file.write("\t".join(_text(row.get(column)) for column in columns) + "\n")
    out.file.flush()


@contextmanager
def working(what: str) -> Iterator[None]:
    """A spinner saying `what` on standard error while the block runs, on a terminal only.

    Piped or redirected, nothing is written: standard error keeps only errors.
    """
    err = console(stderr=True)
    if not is_tty(err):
        yield
        return
    with err.status(what):
        yield
