"""Type-check the documentation's Python blocks with ``mypy --strict``.

Users copy the examples of `README.md`, `packages/*/README.md` and `docs/**/*.md` into code
that their own ``mypy --strict`` checks, so an example that does not type-check is a bug.
The blocks are the ones `tests-integration/test_docs.py` executes (its extraction is reused,
so both agree on what a block is): the blocks of one Markdown file become one module, padded
so that mypy's line numbers are the Markdown file's, and mypy's report names the Markdown
files. Blocks marked ``<!-- not-executed: ... -->`` or ``<!-- executed-by: ... -->`` are
fragments of other files and are left out, as they are from the run.

Run: ``uv run python tools/typecheck_docs.py`` (exit status: mypy's).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]

#: Pages whose examples predate this check and do not type-check yet (issue 12). Their errors
#: are printed but do not fail; a listed page that has become clean fails, so the list only
#: shrinks. Every other page must be clean.
NOT_YET_CLEAN = frozenset(
    {
        "docs/event-sourcing.md",
        "docs/kurrentdb.md",
        "docs/outbox-rabbitmq.md",
        "docs/reactions.md",
        "docs/schema-evolution.md",
        "docs/subscriptions.md",
    }
)


def _doc_extraction() -> ModuleType:
    """`tests-integration/test_docs.py`, imported by path (the folder is not a package)."""
    path = REPO / "tests-integration" / "test_docs.py"
    spec = importlib.util.spec_from_file_location("_es_test_docs", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


def write_modules(folder: Path) -> dict[str, str]:
    """One module per Markdown file with runnable blocks; maps module file to Markdown path."""
    docs = _doc_extraction()
    modules: dict[str, str] = {}
    for path in docs.markdown_files():
        blocks = docs.runnable_blocks(path)
        if not blocks:
            continue
        relative = str(path.relative_to(REPO))
        module = folder / f"doc_{re.sub(r'[^A-Za-z0-9]+', '_', relative).lower()}.py"
        module.write_text(docs._as_test_module(blocks, path), encoding="utf-8")
        modules[str(module)] = relative
    return modules


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="es-doc-types-") as folder:
        modules = write_modules(Path(folder))
        result = subprocess.run(
            [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *modules],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
    report = result.stdout + result.stderr
    for module, markdown in modules.items():
        report = report.replace(module, markdown)
    print(report, end="")
    failing = {line.split(":", 1)[0] for line in report.splitlines() if ": error: " in line}
    if result.returncode not in (0, 1) or (result.returncode == 1 and not failing):
        print("mypy did not run to the end")
        return 2
    unexpected = sorted(failing - NOT_YET_CLEAN)
    cleaned = sorted(NOT_YET_CLEAN & set(modules.values()) - failing)
    print(f"type-checked the Python blocks of {len(modules)} Markdown files")
    if unexpected:
        print(f"FAILED: examples that do not type-check in {', '.join(unexpected)}")
    if cleaned:
        print(f"FAILED: {', '.join(cleaned)} type-check now: remove them from NOT_YET_CLEAN")
    return 1 if unexpected or cleaned else 0


if __name__ == "__main__":
    sys.exit(main())
