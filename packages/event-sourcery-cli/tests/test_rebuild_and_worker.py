"""``projections rebuild`` and ``worker`` with ``--app`` (see `es_cli_app`), on SQLite."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest
from event_sourcery import StreamId
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from .conftest import Run

APP = "es_cli_app:make_worker"


@pytest.fixture(autouse=True)
def cli_app(url: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The application module, importable as the command imports it."""
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    monkeypatch.setenv("ES_CLI_URL", url)
    module = importlib.import_module("es_cli_app")
    monkeypatch.setattr(module, "applied", [])
    return module


def _fill(backend: SQLAlchemyBackend, session: Session, count: int) -> Counter[str]:
    tick = importlib.import_module("es_cli_app").Tick
    expected: Counter[str] = Counter()
    for n in range(count):
        category = f"c{n % 3}"
        backend.event_store.append(tick(), stream_id=StreamId(category=category))
        expected[category] += 1
    session.commit()
    return expected


def test_rebuild_clears_the_read_model_and_applies_the_log_again(
    run: Run, url: str, backend: SQLAlchemyBackend, session: Session, cli_app: ModuleType
) -> None:
    expected = _fill(backend, session, 30)
    assert run("worker", "--app", APP, "--once").exit_code == 0
    assert cli_app.totals(url) == expected

    result = run("projections", "rebuild", "totals", "--app", APP, "--batch-size", "7")

    assert result.exit_code == 0, result.output
    assert result.stdout == "rebuilt totals: 30 events applied\n"
    assert result.stderr.startswith("rebuilding totals: 30 events, 100%")
    assert cli_app.totals(url) == expected  # not doubled: on_reset emptied it first


def test_an_interrupted_rebuild_resumes_from_its_checkpoint(
    run: Run,
    url: str,
    backend: SQLAlchemyBackend,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    cli_app: ModuleType,
) -> None:
    expected = _fill(backend, session, 30)
    monkeypatch.setenv("ES_CLI_INTERRUPT_AFTER", "12")

    stopped = run("projections", "rebuild", "totals", "--app", APP, "--batch-size", "5")

    assert stopped.exit_code == 1
    assert "interrupted; add --resume" in stopped.stderr
    assert sum(cli_app.totals(url).values()) == 10  # two batches committed, the third not
    monkeypatch.delenv("ES_CLI_INTERRUPT_AFTER")

    resumed = run("projections", "rebuild", "totals", "--app", APP, "--resume")

    assert resumed.exit_code == 0, resumed.output
    assert resumed.stdout == "rebuilt totals: 20 events applied\n"
    assert cli_app.totals(url) == expected


def test_rebuild_of_an_unknown_projection_names_the_known_ones(run: Run) -> None:
    result = run("projections", "rebuild", "nope", "--app", APP)

    assert result.exit_code == 1
    assert result.stderr == "error: no projection 'nope' in this worker (it has: 'totals')\n"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("es_cli_app", "give it as module:attribute"),
        ("no_such_module:worker", "cannot import 'no_such_module'"),
        ("es_cli_app:nothing", "has no 'nothing'"),
        ("es_cli_app:applied", "is a list, not an event_sourcery.Worker"),
    ],
)
def test_bad_apps_are_one_line_errors(run: Run, path: str, message: str) -> None:
    result = run("worker", "--app", path)

    assert result.exit_code == 1
    assert message in result.stderr


def test_worker_once_runs_a_round(
    run: Run, url: str, backend: SQLAlchemyBackend, session: Session, cli_app: ModuleType
) -> None:
    expected = _fill(backend, session, 4)

    result = run("worker", "--app", APP, "--once")

    assert result.exit_code == 0, result.output
    assert result.stdout == "handled 4 events\n"
    assert cli_app.totals(url) == expected


def test_worker_stops_cleanly_on_sigterm(
    url: str, backend: SQLAlchemyBackend, session: Session, cli_app: ModuleType
) -> None:
    expected = _fill(backend, session, 3)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path])}
    worker = subprocess.Popen(
        [sys.executable, "-m", "event_sourcery_cli", "worker", "--app", APP],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while _totals_or_none(cli_app, url) != expected:
        assert worker.poll() is None, worker.communicate()
        assert time.monotonic() < deadline, "the worker projected nothing"
        time.sleep(0.05)

    worker.send_signal(signal.SIGTERM)
    out, err = worker.communicate(timeout=30)

    assert worker.returncode == 0, err
    assert out == "stopped cleanly\n"


def _totals_or_none(cli_app: ModuleType, url: str) -> dict[str, int] | None:
    try:
        totals: dict[str, int] = cli_app.totals(url)
    except OperationalError:  # the worker has not made its table yet
        return None
    return totals
