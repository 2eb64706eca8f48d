"""Django in the integration suite: the package's test settings plus a database per server.

Not a test module; the ``test_django_*`` modules load it by path (`load_support`). The servers
and their environment variables are those of ``conftest.py`` (SQLAlchemy URLs); each server
that answers becomes a Django database alias (``postgresql``, ``mariadb``) whose test database
pytest-django makes per run and xdist worker (``es_django_<run>_gw0``) and drops at the end. A
server that does not answer gets no alias: its tests skip, loudly, or fail with
``--require-backends``, as the conftest's own.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import URL, make_url

REPO = Path(__file__).resolve().parents[1]
PACKAGE_TESTS = REPO / "packages" / "event-sourcery-django" / "tests"
# The same variables and defaults as conftest.py's SERVERS.
SERVERS = {
    "postgresql": (
        "EVENT_SOURCERY_POSTGRES_URL",
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    ),
    "mariadb": ("EVENT_SOURCERY_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}
_CONNECT_TIMEOUT = 5
#: Per server: None when it has an alias, else why not (the skip message).
PROBLEMS: dict[str, str | None] = {}


def load(name: str, path: Path) -> ModuleType:
    """The module at `path` as `name`, loaded once per process."""
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


def _django_settings(server: str, url: URL) -> dict[str, Any]:
    run = uuid.uuid4().hex[:8]
    common = {
        "HOST": url.host or "127.0.0.1",
        "PORT": url.port or "",
        "USER": url.username or "",
        "PASSWORD": url.password or "",
        # Never the admin database itself: pytest-django makes (and drops) a test database,
        # one per run so that concurrent runs on one server never share or drop each other's.
        "NAME": url.database or "",
        "TEST": {"NAME": f"es_django_{run}", "DEPENDENCIES": []},
    }
    if server == "postgresql":
        return {"ENGINE": "django.db.backends.postgresql", **common}
    import pymysql

    pymysql.install_as_MySQLdb()  # Django's MySQL backend accepts PyMySQL in its stead
    common["TEST"] = {**common["TEST"], "CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    return {"ENGINE": "django.db.backends.mysql", "OPTIONS": {"charset": "utf8mb4"}, **common}


def _reachable(server: str, url: URL) -> str | None:
    """None if the server answers, else what went wrong."""
    try:
        if server == "postgresql":
            import psycopg

            psycopg.connect(
                host=url.host,
                port=url.port,
                user=url.username,
                password=url.password,
                dbname=url.database,
                connect_timeout=_CONNECT_TIMEOUT,
            ).close()
        else:
            import pymysql

            pymysql.connect(
                host=url.host,
                port=url.port or 3306,
                user=url.username,
                password=url.password or "",
                connect_timeout=_CONNECT_TIMEOUT,
            ).close()
    except Exception as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return (
            f"BACKEND UNREACHABLE: {server} (Django) at "
            f"{url.render_as_string(hide_password=True)}: {type(error).__name__}: {first}"
        )
    return None


def configure() -> None:
    """Configure Django once per process, with an alias per reachable server."""
    if PROBLEMS:
        return
    databases: dict[str, dict[str, Any]] = {}
    for server, (variable, default) in SERVERS.items():
        raw = os.environ.get(variable, default)
        if not raw.strip():
            PROBLEMS[server] = f"BACKEND LEFT OUT: {server} ({variable} is empty)"
            continue
        url = make_url(raw)
        problem = _reachable(server, url)
        PROBLEMS[server] = problem
        if problem is None:
            databases[server] = _django_settings(server, url)
    load("es_django_settings", PACKAGE_TESTS / "es_django_settings.py").configure(databases)
    load("es_django_kit", PACKAGE_TESTS / "es_django_kit.py")
    load("es_django_async", PACKAGE_TESTS / "es_django_async.py")


def require(request: pytest.FixtureRequest, server: str) -> None:
    """Skip (or, with --require-backends, fail) a test of a server that has no alias."""
    problem = PROBLEMS.get(server)
    if problem is None:
        return
    if problem.startswith("BACKEND UNREACHABLE") and request.config.getoption("--require-backends"):
        pytest.fail(f"{problem} (--require-backends)", pytrace=False)
    pytest.skip(problem)


def databases() -> list[str]:
    """The aliases of the servers that answered."""
    return [server for server, problem in PROBLEMS.items() if problem is None]
