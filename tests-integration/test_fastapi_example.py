"""docs/fastapi.md's application and tests, on PostgreSQL through psycopg's async connection.

`test_docs.py` runs the page as written, on SQLite (aiosqlite). Here the same blocks become a
test module whose `app` fixture is replaced by one on the worker's PostgreSQL database (its
tables made by the suite's conftest), so the page's own tests check the application there too.
They run in a fresh interpreter, as in `test_docs.py`: the page's event classes would clash
with the conformance kit's in this process's default registry.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

from sqlalchemy import Engine

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "fastapi.md"

_ON_POSTGRESQL = """

@pytest.fixture
async def app() -> AsyncIterator[FastAPI]:  # replaces the page's SQLite fixture
    engine = create_async_engine({url!r}, pool_size=2, max_overflow=0)
    yield create_app(engine)
    await engine.dispose()
"""


@cache
def _doc_extraction() -> ModuleType:
    """`test_docs.py`, imported by path (the suite's modules are not a package)."""
    path = Path(__file__).with_name("test_docs.py")
    spec = importlib.util.spec_from_file_location("_es_test_docs_fastapi", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


def test_the_pages_tests_pass_on_postgresql(postgresql_engine: Engine, tmp_path: Path) -> None:
    docs = _doc_extraction()
    url = postgresql_engine.url.set(drivername="postgresql+psycopg")
    source = docs._as_test_module(docs.runnable_blocks(PAGE), PAGE)
    source += _ON_POSTGRESQL.format(url=url.render_as_string(hide_password=False))
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    (tmp_path / "test_fastapi_on_postgresql.py").write_text(source, encoding="utf-8")
    result = docs._run([sys.executable, "-m", "pytest", "-q", "-p", "no:xdist"], cwd=tmp_path)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    tests = re.findall(r"^(?:async )?def (test_\w+)", source, re.M)
    assert tests, "docs/fastapi.md shows no test"
    assert re.search(rf"\b{len(tests)} passed\b", result.stdout), result.stdout
