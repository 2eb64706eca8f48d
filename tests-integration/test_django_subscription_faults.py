"""Subscriptions on Django when the database misbehaves under them (issue 11, defects 2, 4).

- PostgreSQL: a subscription waiting for a notification whose connection dies raises a
  `StorageError` (the driver's error chained), never the driver's; rebuilt from its
  checkpoint, it resumes with nothing missed.
- MariaDB: a writer whose connection selects another database while its transaction is open
  still holds its position: the subscription waits for it rather than passing it as a gap.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import uuid4

import pytest
from event_sourcery import Event, StreamId
from event_sourcery.exceptions import StorageError


def _load_support() -> ModuleType:
    name, path = "es_django_integration", Path(__file__).with_name("django_support.py")
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


support = _load_support()
support.configure()
kit = sys.modules["es_django_kit"]


class DjangoFault(Event):
    __event_name__ = "es_integration.DjangoFault"
    which: str


def _in_thread(target: object, *args: object) -> threading.Thread:
    """Run `target` in a thread with Django connections of its own, closed at its end."""
    from django.db import connections

    def run() -> None:
        try:
            target(*args)  # type: ignore[operator]
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.django_db(**kit.DATABASE_ACCESS, databases=["postgresql"])
def test_postgresql_listen_connection_killed_while_waiting_is_a_storage_error(
    request: pytest.FixtureRequest,
) -> None:
    support.require(request, "postgresql")
    from django.db import connections
    from event_sourcery_django import DjangoBackend

    backend = DjangoBackend(using="postgresql")
    category = f"djkilled-{uuid4().hex}"
    backend.event_store.append(DjangoFault(which="before"), stream_id=StreamId(category=category))
    subscriber = backend.subscriber.to_category(category)
    records = subscriber.start_from(0).build_iter(2)
    first = next(records)
    assert first is not None
    assert first.wrapped_event.event.which == "before"
    checkpoint = first.position

    def kill() -> None:
        time.sleep(0.5)
        with connections["postgresql"].cursor() as cursor:
            # The subscription's connection: the one whose last read looked at the head of
            # the log after the checkpoint, as a poll with nothing new does (Django binds
            # parameters on the client, so the value is in the statement).
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE pid <> pg_backend_pid() AND query LIKE %s",
                [f"%pg_current_snapshot()%WHERE id > {checkpoint} ORDER BY id%"],
            )
            assert cursor.fetchall(), "the subscription's connection was not found"

    killer = _in_thread(kill)
    with pytest.raises(StorageError) as caught:
        next(records)  # waiting for a notification when its connection dies
    killer.join()
    assert caught.value.__cause__ is not None  # the driver's error, for debugging
    backend.event_store.append(DjangoFault(which="after"), stream_id=StreamId(category=category))
    again = next(subscriber.start_from(checkpoint).build_iter(2))
    assert again is not None
    assert again.wrapped_event.event.which == "after"


#: What makes writer E1's connection look elsewhere mid-transaction, per server, and undoes
#: it before the commit. MariaDB: ``USE`` of another database ({other}), then of its own
#: ({home}). PostgreSQL: a session cannot change its database; what it can change (search
#: path, application name, role) must not hide it either (SET LOCAL ends with the commit).
_MOVES = {
    "mariadb": (["USE `{other}`"], ["USE `{home}`"]),
    "postgresql": (
        [
            "SET LOCAL search_path TO pg_catalog",
            "SET LOCAL application_name TO 'elsewhere'",
            "SET LOCAL ROLE pg_monitor",
        ],
        [],
    ),
}


@contextlib.contextmanager
def _writer_elsewhere(using: str, category: str) -> Iterator[None]:
    """E1 appended in a transaction on another thread's connection, which then moves away
    (`_MOVES`) and stays open until the block ends; then it moves back and commits."""
    from django.db import connections, transaction
    from event_sourcery_django import DjangoBackend

    other = f"es_other_{uuid4().hex[:12]}"
    away, back = _MOVES[using]
    switched, release = threading.Event(), threading.Event()

    def run(statements: list[str], **names: str) -> None:
        with connections[using].cursor() as cursor:
            for statement in statements:
                cursor.execute(statement.format(**names))

    def first_writer() -> None:
        with transaction.atomic(using=using):
            DjangoBackend(using=using).event_store.append(
                DjangoFault(which="E1"), stream_id=StreamId(category=category)
            )
            home = connections[using].settings_dict["NAME"]
            run(away, other=other)
            switched.set()
            release.wait(30)
            run(back, home=home)

    created = using == "mariadb"
    if created:
        run(["CREATE DATABASE `{other}`"], other=other)
    try:
        writer = _in_thread(first_writer)
        assert switched.wait(30)
        try:
            yield
        finally:
            release.set()
            writer.join()
    finally:
        if created:
            run(["DROP DATABASE IF EXISTS `{other}`"], other=other)


def _servers() -> list[Any]:
    """A parameter per server, on its test database when it has an alias (else it skips)."""
    return [
        pytest.param(server, marks=pytest.mark.django_db(**kit.DATABASE_ACCESS, databases=[server]))
        if server in support.databases()
        else pytest.param(server)
        for server in _MOVES
    ]


@pytest.mark.parametrize("using", _servers())
def test_writer_whose_connection_moves_to_another_database_is_still_waited_for(
    request: pytest.FixtureRequest, using: str
) -> None:
    """E1 appended on connection 1, which then runs ``USE other_db`` (MariaDB); E2 appended
    and committed on connection 2. E2 must wait for E1's transaction: it was delivered at once,
    and E1, once committed, never (the gap below E2 was passed as final)."""
    support.require(request, using)
    from event_sourcery_django import DjangoBackend

    backend = DjangoBackend(using=using)
    category = f"djuse-{uuid4().hex}"
    start = backend.event_store.position
    records = backend.subscriber.start_from(start).to_category(category).build_iter(0.3)
    assert next(records) is None
    with _writer_elsewhere(using, category):
        backend.event_store.append(DjangoFault(which="E2"), stream_id=StreamId(category=category))
        assert next(records) is None  # E2 held back behind E1's position
    got = [next(records), next(records)]
    assert [r.wrapped_event.event.which for r in got if r] == ["E1", "E2"]


@pytest.mark.parametrize("using", _servers())
def test_position_waits_for_a_writer_whose_connection_moves_to_another_database(
    request: pytest.FixtureRequest, using: str
) -> None:
    """`store.position` promises that nothing lower can still appear: it must wait for E1's
    transaction too (it returned at once, above E1's uncommitted position)."""
    support.require(request, using)
    from event_sourcery_django import DjangoBackend

    backend = DjangoBackend(using=using)
    category = f"djuse-position-{uuid4().hex}"
    answers: list[int] = []
    with _writer_elsewhere(using, category):
        backend.event_store.append(DjangoFault(which="E2"), stream_id=StreamId(category=category))
        asking = _in_thread(lambda: answers.append(backend.event_store.position))
        asking.join(1.0)
        assert not answers  # still waiting for E1's transaction
    asking.join(10)
    assert answers  # once it has ended
