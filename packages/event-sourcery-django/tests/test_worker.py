"""`manage.py event_sourcery_worker`: batches in transactions, and a clean stop on SIGTERM."""

from __future__ import annotations

import io
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from uuid import uuid4

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from es_django_kit import DATABASE_ACCESS
from event_sourcery import Projector, Recorded, StreamId
from event_sourcery.exceptions import InvalidInput
from event_sourcery_django import DjangoBackend
from event_sourcery_django._worker import Worker
from event_sourcery_django.models import Checkpoint, OutboxRecord
from event_sourcery_testing.conformance._events import Deposited  # the worker knows it too

pytestmark = pytest.mark.django_db(**DATABASE_ACCESS)
TESTS = Path(__file__).resolve().parent


def _append(category: str, count: int, *, outbox: bool = False) -> list[int]:
    backend = DjangoBackend()
    if outbox:
        backend = backend.with_outbox(filterer=lambda r: r.stream_id.category == category)
    seen: list[int] = []
    backend.in_transaction.register(lambda r: seen.append(r.position), to=category)
    backend.event_store.append(
        *(Deposited(amount=n) for n in range(count)), stream_id=StreamId(category=category)
    )
    return seen


def _start(args: list[str], log: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(TESTS / "worker_main.py"), "event_sourcery_worker", *args],
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
            "ES_DJANGO_DATABASE": str(connection.settings_dict["NAME"]),
            "ES_DJANGO_LOG": str(log),
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stop_mid_batch(worker: subprocess.Popen[str], log: Path) -> list[int]:
    """SIGTERM as soon as the first event of a batch is handled; the positions handled."""
    deadline = time.monotonic() + 30
    while not (log.exists() and log.read_text()):
        assert worker.poll() is None, worker.communicate()
        assert time.monotonic() < deadline, "the worker handled nothing"
        time.sleep(0.02)
    worker.send_signal(signal.SIGTERM)
    out, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    assert "stopped cleanly" in out
    return [int(line) for line in log.read_text().split()]


def test_sigterm_lets_the_outbox_batch_commit(tmp_path: Path) -> None:
    category = f"worker-{uuid4().hex}"
    positions = _append(category, 5, outbox=True)
    log = tmp_path / "published.txt"
    worker = _start(["--outbox-publisher", "worker_helpers.slow_publish", "--batch-size", "3"], log)
    published = _stop_mid_batch(worker, log)
    assert published == positions[:3]  # the whole batch, and no further
    left = OutboxRecord.objects.filter(category=category).order_by("id")
    assert [entry.position for entry in left] == positions[3:]


def test_sigterm_lets_the_projection_batch_commit(tmp_path: Path) -> None:
    category, name = f"worker-{uuid4().hex}", f"proj-{uuid4().hex}"
    positions = _append(category, 5)
    log = tmp_path / "projected.txt"
    worker = _start(
        ["--projection", "worker_helpers.slow_projection", "--batch-size", "3"],
        log,
        ES_DJANGO_CATEGORY=category,
        ES_DJANGO_PROJECTION=name,
    )
    assert _stop_mid_batch(worker, log) == positions[:3]
    assert Checkpoint.objects.get(name=name).position == positions[2]


def test_a_round_publishes_and_projects_in_transactions() -> None:
    category = f"worker-{uuid4().hex}"
    positions = _append(category, 2, outbox=True)
    published: list[int] = []
    projected: list[int] = []
    backend = DjangoBackend()
    projector = Projector(
        backend,
        name=f"proj-{uuid4().hex}",
        handler=lambda r: projected.append(r.position),
        categories=[category],
    )
    worker = Worker(
        backend, publisher=lambda r: published.append(r.position), projectors=[projector]
    )
    while worker.run_once():
        pass
    assert [p for p in published if p in positions] == positions
    assert projected == positions
    assert not OutboxRecord.objects.filter(category=category).exists()


def test_a_failing_projection_is_rolled_back_and_retried() -> None:
    category = f"worker-{uuid4().hex}"
    _append(category, 1)
    calls: list[Recorded] = []

    def explode(record: Recorded) -> None:
        calls.append(record)
        raise RuntimeError("read model down")

    name = f"proj-{uuid4().hex}"
    projector = Projector(DjangoBackend(), name=name, handler=explode, categories=[category])
    worker = Worker(DjangoBackend(), projectors=[projector])
    assert worker.run_once() == 0
    assert worker.run_once() == 0
    assert len(calls) == 2  # retried from the same checkpoint
    assert not Checkpoint.objects.filter(name=name, position__gt=0).exists()


def test_bad_configurations_are_refused() -> None:
    with pytest.raises(CommandError, match="nothing to do"):
        call_command("event_sourcery_worker")
    with pytest.raises(CommandError, match="cannot import"):
        call_command("event_sourcery_worker", outbox_publisher="no.such.publisher")
    with pytest.raises(CommandError, match="not an event_sourcery.Projector"):
        call_command("event_sourcery_worker", projection=["event_sourcery_django.DjangoBackend"])
    with pytest.raises(InvalidInput, match="batch_size"):
        Worker(DjangoBackend(), batch_size=0)


@pytest.mark.parametrize("path", ["json", "email.mime", "os.path"])
def test_a_module_instead_of_a_callable_says_what_was_expected(path: str) -> None:
    # Django's import_string said "json doesn't look like a module path", or that the parent
    # module "does not define" the submodule.
    with pytest.raises(CommandError, match=r"is a module, not a callable.*'module:name'"):
        call_command("event_sourcery_worker", outbox_publisher=path)
    with pytest.raises(CommandError, match="is a module, not an event_sourcery.Projector"):
        call_command("event_sourcery_worker", projection=[path])


def test_module_colon_name_paths_are_accepted() -> None:
    out = __import__("io").StringIO()
    call_command("event_sourcery_worker", outbox_publisher="builtins:print", once=True, stdout=out)
    assert "handled" in out.getvalue()
    with pytest.raises(CommandError, match=r"cannot import.*'json' has no attribute 'nope'"):
        call_command("event_sourcery_worker", outbox_publisher="json:nope")
    with pytest.raises(CommandError, match="cannot import.*no_such_module"):
        call_command("event_sourcery_worker", outbox_publisher="no_such_module:publish")
    with pytest.raises(CommandError, match="not callable: name a function"):
        call_command("event_sourcery_worker", outbox_publisher="json:__name__")


#: The projection `test_failures_reach_stderr_without_logging_configured` names by path.
exploding: Projector | None = None


def test_failures_reach_stderr_without_logging_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The library's loggers have a NullHandler, so Python's last resort no longer prints their
    # warnings; the command, an application, shows them itself when nothing is configured.
    global exploding
    category = f"worker-{uuid4().hex}"
    _append(category, 1)

    def explode(record: Recorded) -> None:
        raise RuntimeError("read model down")

    name = f"proj-{uuid4().hex}"
    exploding = Projector(DjangoBackend(), name=name, handler=explode, categories=[category])
    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    err = io.StringIO()
    call_command(
        "event_sourcery_worker", projection=[f"{__name__}:exploding"], once=True, stderr=err
    )
    assert f"ERROR event_sourcery_django.worker: projection {name!r} failed" in err.getvalue()
    assert not logging.getLogger("event_sourcery_django").handlers  # removed after the run


def test_once_runs_one_round() -> None:
    category = f"worker-{uuid4().hex}"
    _append(category, 1, outbox=True)
    out = __import__("io").StringIO()
    call_command("event_sourcery_worker", outbox_publisher="builtins.print", once=True, stdout=out)
    assert "handled" in out.getvalue()
    assert not OutboxRecord.objects.filter(category=category).exists()
