"""``event-sourcery copy`` between SQLite, PostgreSQL and the KurrentDB emulator; Django too.

`copy` moves a whole store, so each test makes its own, empty stores (a new database, a new
emulator): a copy of the shared test databases would take in other tests' events.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from event_sourcery import NO_VERSIONING, Context, Event, StreamId, WrappedEvent
from event_sourcery_cli import app
from event_sourcery_cli._connect import open_store
from event_sourcery_cli._copy import checkpoint_name
from event_sourcery_sqlalchemy import configure_models
from kurrentdb_emulator import Emulator
from sqlalchemy import URL, MetaData, create_engine
from typer.testing import CliRunner

KINDS = ("sqlite", "postgresql", "kurrentdb")
PAIRS = [(source, target) for source in KINDS for target in KINDS if source != target]

MakeStore = Callable[[str], str]


class CopyOpened(Event):
    owner: str


class CopyMoved(Event):
    amount: int


def _with_tables(url: URL) -> str:
    metadata = MetaData()
    configure_models(metadata)
    engine = create_engine(url)
    metadata.create_all(engine)
    engine.dispose()
    return url.render_as_string(hide_password=False)


@pytest.fixture
def make_store(empty_database: Callable[[str], URL]) -> Iterator[MakeStore]:
    """``make_store("postgresql")``: the URL of a new, empty store of that kind."""
    with ExitStack() as stack:

        def make(kind: str) -> str:
            if kind == "kurrentdb":
                return stack.enter_context(Emulator()).uri
            return _with_tables(empty_database(kind))

        yield make


def _fill(url: str, streams: int = 4) -> None:
    """Events of every kind `copy` must keep, interleaved between streams in the log."""
    at = datetime(2021, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)
    named = [StreamId(name=f"acc-{n}-{uuid4()}", category="account") for n in range(streams)]
    with open_store(url) as backend:
        tenant = backend.in_tenant_mode("tenant-a").event_store
        for stream in named:
            backend.event_store.append(
                WrappedEvent.wrap(
                    CopyOpened(owner="ann"), 1, created_at=at, context=Context(causation_id=uuid4())
                ),
                stream_id=stream,
            )
            tenant.append(CopyMoved(amount=1), CopyMoved(amount=2), stream_id=StreamId())
        for stream in named:
            backend.event_store.append(CopyMoved(amount=5), stream_id=stream, expected_version=1)
        backend.event_store.append(
            CopyMoved(amount=7), stream_id=StreamId(category="log"), expected_version=NO_VERSIONING
        )


def _copy(source: str, target: str, *args: str) -> Any:
    return CliRunner().invoke(app, ["copy", "--from", source, "--to", target, *args])


@pytest.mark.parametrize(("source_kind", "target_kind"), PAIRS)
def test_copy_between_backends_verifies(
    make_store: MakeStore, source_kind: str, target_kind: str
) -> None:
    source, target = make_store(source_kind), make_store(target_kind)
    _fill(source)

    result = _copy(source, target, "--verify", "--chunk", "5")

    assert result.exit_code == 0, result.output
    assert "copied 17 events" in result.stdout
    assert "verified: 17 events in 9 streams, identical" in result.stdout
    again = _copy(source, target, "--verify")
    assert again.exit_code == 0, again.output
    assert "copied 0 events" in again.stdout  # nothing new: nothing twice


def _checkpoint(target: str, source: str) -> int:
    with open_store(target) as backend:
        return backend.projection_checkpoints().get(checkpoint_name(source), 0)


def _fill_many(url: str, streams: int, per_stream: int) -> None:
    with open_store(url) as backend:
        store = backend.event_store
        for n in range(streams):
            stream = StreamId(category=f"bulk{n % 5}")
            store.append(*(CopyMoved(amount=i) for i in range(per_stream)), stream_id=stream)


@pytest.mark.parametrize("target_kind", ["postgresql", "kurrentdb"])
def test_a_killed_copy_resumes_to_an_identical_store(
    make_store: MakeStore, target_kind: str
) -> None:
    source, target = make_store("sqlite"), make_store(target_kind)
    _fill_many(source, streams=100, per_stream=100)
    copy = subprocess.Popen(
        [sys.executable, "-m", "event_sourcery_cli", "copy", "--from", source, "--to", target,
         "--chunk", "250"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while _checkpoint(target, source) == 0:
        assert copy.poll() is None, copy.communicate()
        assert time.monotonic() < deadline, "the copy committed nothing"
        time.sleep(0.005)
    copy.send_signal(signal.SIGKILL)
    copy.wait(timeout=30)
    with open_store(source) as backend:
        head = backend.event_store.position
    assert 0 < _checkpoint(target, source) < head, "killed too late to test a resume"

    resumed = _copy(source, target, "--verify")

    assert resumed.exit_code == 0, resumed.output
    assert "(resumed after position" in resumed.stdout
    assert "verified: 10000 events in 100 streams, identical" in resumed.stdout


_DJANGO_SETTINGS = """\
SECRET_KEY = "copy-tests"
USE_TZ = True
INSTALLED_APPS = ["event_sourcery_django"]
DATABASES = {{"default": {{
    "ENGINE": "django.db.backends.postgresql", "NAME": {name!r}, "HOST": {host!r},
    "PORT": {port!r}, "USER": {user!r}, "PASSWORD": {password!r},
}}}}
"""


def _django_project(folder: Path, url: URL) -> dict[str, str]:
    """A settings module on the PostgreSQL database `url`, migrated; the environment to use it."""
    module = f"copy_settings_{uuid4().hex[:8]}"
    (folder / f"{module}.py").write_text(
        _DJANGO_SETTINGS.format(
            name=url.database,
            host=url.host or "127.0.0.1",
            port=str(url.port or ""),
            user=url.username or "",
            password=url.password or "",
        )
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), *sys.path])}
    migrate = [sys.executable, "-m", "django", "migrate", "--settings", module, "-v", "0"]
    subprocess.run(migrate, env=env, check=True, capture_output=True)
    env["ES_COPY_SETTINGS"] = module
    return env


def test_django_on_postgresql_through_the_command_line(
    make_store: MakeStore, empty_database: Callable[[str], URL], tmp_path: Path
) -> None:
    source = make_store("sqlite")
    _fill(source)
    env = _django_project(tmp_path, empty_database("postgresql"))
    settings = env["ES_COPY_SETTINGS"]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "event_sourcery_cli", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, check=False)

    copied = cli("copy", "--from", source, "--to", f"django:{settings}", "--verify")
    assert copied.returncode == 0, copied.stderr
    assert "verified: 17 events in 9 streams, identical" in copied.stdout

    listed = cli("--django-settings", settings, "streams", "list", "--category", "account")
    assert listed.returncode == 0, listed.stderr
    assert [line.split("\t")[4:6] for line in listed.stdout.splitlines()[1:]] == [["2", "2"]] * 4
    stats = cli("--django-settings", settings, "--tenant", "tenant-a", "stats", "--json")
    assert '"events": 8' in stats.stdout
