"""Databases of the integration suite: SQLite (file and memory), PostgreSQL and MariaDB.

Server URLs come from the environment (admin URLs: they must be allowed to create databases):

- ``EVENT_SOURCERY_POSTGRES_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``
- ``EVENT_SOURCERY_MARIADB_URL``, default ``mysql+pymysql://root@127.0.0.1:3306/test``

Set one to an empty string to leave that backend out. A configured server that cannot be reached
skips its tests, with a loud line in the summary; with ``--require-backends`` (as in CI) it
fails them instead.

Each xdist worker of each run gets its own database per server,
``es_run_<fingerprint>_<start time>_<run id>_<worker>``, dropped at the end of the session.
The tests never assume an empty database; the database is private to the run because some
tests act on the whole database, not on their own streams: draining the outbox publishes
every entry in it, and a concurrent run sharing the database would steal entries another
test is waiting for. Databases of runs that died before their cleanup are dropped by the next
run once they are six hours old.

Both ``mysql+pymysql://`` and ``mariadb+pymysql://`` URLs work for MariaDB.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from event_sourcery_sqlalchemy import configure_models
from sqlalchemy import URL, Engine, create_engine, exc, make_url, text
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import StaticPool
from sqlalchemy.schema import CreateTable

SERVERS: dict[str, tuple[str, str]] = {
    "postgresql": (
        "EVENT_SOURCERY_POSTGRES_URL",
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    ),
    "mariadb": ("EVENT_SOURCERY_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}
#: Every database the SQLAlchemy backend is tested on; fixture `<name>_engine` gives each.
DATABASES = ("sqlite_file", "sqlite_memory", "postgresql", "mariadb")

_RUN_PREFIX = "es_run_"
#: Databases of runs that never cleaned up are dropped once this old (seconds).
_STALE_AFTER = 6 * 3600
_UNREACHABLE = "BACKEND UNREACHABLE:"
_LEFT_OUT = "BACKEND LEFT OUT:"
_CONNECT_TIMEOUT = 5


class Base(DeclarativeBase):
    """The integration suite's declarative base, with Event Sourcery's tables."""


configure_models(Base)


def _load_django_support() -> None:
    """`django_support.py` as module ``es_django_integration``, before any test module: the
    suite's modules cannot import one another (importlib mode), so they take it from
    `sys.modules`. Loading it configures nothing; its `configure()` does."""
    name, path = "es_django_integration", Path(__file__).with_name("django_support.py")
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])


_load_django_support()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-backends",
        action="store_true",
        default=False,
        help="fail (instead of skip) the tests of a configured database server that is down",
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    counts = sorted(
        str(value)
        for kind in ("passed", "failed")
        for report in terminalreporter.stats.get(kind, [])
        for key, value in getattr(report, "user_properties", ())
        if key == "concurrency"
    )
    if counts:
        terminalreporter.section("concurrent writers vs. subscriptions")
        for line in counts:
            terminalreporter.write_line(line)
    reasons: set[str] = set()
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        for marker in (_UNREACHABLE, _LEFT_OUT):
            if marker in reason:
                reasons.add(reason[reason.index(marker) :])
    if not reasons:
        return
    terminalreporter.section("DATABASES NOT TESTED", sep="!", red=True, bold=True)
    for reason in sorted(reasons):
        terminalreporter.write_line(reason, red=True, bold=True)
    terminalreporter.write_line(
        "Their tests were skipped. CI runs with --require-backends, where this is a failure.",
        red=True,
    )


# --- servers and their databases -------------------------------------------------------------


def _admin_url(request: pytest.FixtureRequest, server: str) -> URL:
    variable, default = SERVERS[server]
    raw = os.environ.get(variable, default)
    if not raw.strip():
        pytest.skip(f"{_LEFT_OUT} {server} ({variable} is empty)")
    return make_url(raw)


def _admin_engine(request: pytest.FixtureRequest, server: str) -> Engine:
    """An AUTOCOMMIT engine on the server's admin URL; skips/fails if it is unreachable."""
    url = _admin_url(request, server)
    engine = create_engine(
        url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": _CONNECT_TIMEOUT}
    )
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return engine
    except exc.DBAPIError as error:
        engine.dispose()
        message = (
            f"{_UNREACHABLE} {server} at {url.render_as_string(hide_password=True)}: "
            f"{type(error.orig).__name__}: {str(error.orig).strip().splitlines()[0]}"
        )
    # Outside the except block, so the report is the message, not a chained traceback.
    if request.config.getoption("--require-backends"):
        pytest.fail(f"{message} (--require-backends)", pytrace=False)
    pytest.skip(message)


def _create_database(admin: Engine, name: str) -> None:
    with admin.connect() as connection:
        if admin.dialect.name == "postgresql":
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            if not exists:
                # ProgrammingError: another run created it since the check.
                with contextlib.suppress(exc.ProgrammingError):
                    connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        else:
            # A case-insensitive default on purpose: the tables must bring their own collation.
            connection.exec_driver_sql(
                f"CREATE DATABASE IF NOT EXISTS `{name}` "
                "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )


def _drop_database(admin: Engine, name: str) -> None:
    with admin.connect() as connection:
        if admin.dialect.name == "postgresql":
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")


def _schema_fingerprint(engine: Engine) -> str:
    ddl = "".join(
        str(CreateTable(table).compile(dialect=engine.dialect))
        for table in Base.metadata.sorted_tables
    )
    return hashlib.sha256(ddl.encode()).hexdigest()[:10]


def _create_tables(engine: Engine) -> None:
    # Another run may be creating the same tables in the same database right now.
    for attempt in range(3):
        try:
            Base.metadata.create_all(engine)
            return
        except exc.DBAPIError:
            if attempt == 2:
                raise


def _run_id(config: pytest.Config) -> str:
    """One id per test run, the same on every xdist worker of the run."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        return str(workerinput["testrunuid"])[:8]
    run_id = getattr(config, "_es_run_id", None)
    if run_id is None:
        run_id = uuid.uuid4().hex[:8]
        config._es_run_id = run_id  # type: ignore[attr-defined]
    return str(run_id)


def _drop_stale_databases(admin: Engine) -> None:
    """Drop the databases of runs that died more than `_STALE_AFTER` seconds ago."""
    with admin.connect() as connection:
        if admin.dialect.name == "postgresql":
            listing = "SELECT datname FROM pg_database"
        else:
            listing = "SHOW DATABASES"
        names = [row[0] for row in connection.exec_driver_sql(listing)]
    for name in names:
        parts = name.split("_")
        if not name.startswith(_RUN_PREFIX) or len(parts) < 6 or not parts[3].isdigit():
            continue
        if time.time() - int(parts[3]) > _STALE_AFTER:
            # Another worker may be dropping it too.
            with contextlib.suppress(exc.DBAPIError):
                _drop_database(admin, name)


def _server_engine(request: pytest.FixtureRequest, server: str) -> Iterator[Engine]:
    admin = _admin_engine(request, server)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    started = getattr(request.config, "_es_started", None) or int(time.time())
    request.config._es_started = started  # type: ignore[attr-defined]
    run = _run_id(request.config)
    name = f"{_RUN_PREFIX}{_schema_fingerprint(admin)}_{started}_{run}_{worker}"
    _drop_stale_databases(admin)
    _create_database(admin, name)
    engine = create_engine(admin.url.set(database=name))
    try:
        _create_tables(engine)
        yield engine
    finally:
        engine.dispose()
        _drop_database(admin, name)
        admin.dispose()


@pytest.fixture(scope="session")
def postgresql_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """This worker's PostgreSQL database, with the tables; never emptied."""
    yield from _server_engine(request, "postgresql")


@pytest.fixture(scope="session")
def mariadb_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """This worker's MariaDB database, with the tables; never emptied."""
    yield from _server_engine(request, "mariadb")


@pytest.fixture(scope="session")
def sqlite_file_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A SQLite file database of this worker, with the tables."""
    path: Path = tmp_path_factory.mktemp("sqlite") / "events.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_memory_engine() -> Iterator[Engine]:
    """An in-memory SQLite database; StaticPool makes every session share its connection."""
    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def database_engine(request: pytest.FixtureRequest) -> Engine:
    """The engine of the database named by the test's parameter (indirect parametrisation)."""
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    return engine


@pytest.fixture
def empty_database(request: pytest.FixtureRequest) -> Iterator[Callable[[str], URL]]:
    """Makes a new, empty database on a server (or a SQLite file); dropped after the test.

    Call it with "sqlite", "postgresql" or "mariadb"; it returns the database's URL.
    """
    made: list[tuple[Engine, str]] = []

    def make(server: str) -> URL:
        name = f"es_empty_{uuid.uuid4().hex[:12]}"
        if server == "sqlite":
            path = request.getfixturevalue("tmp_path") / f"{name}.sqlite3"
            return make_url(f"sqlite:///{path}")
        admin = _admin_engine(request, server)
        _create_database(admin, name)
        made.append((admin, name))
        return admin.url.set(database=name)

    yield make
    for admin, name in made:
        _drop_database(admin, name)
        admin.dispose()
