"""``outbox --outbox-name`` on the KurrentDB emulator: an outbox of this test's own.

The default outbox of a KurrentDB server is shared by every application (and test run) on it,
which is why `test_cli.py` tries its failing publisher on the SQL servers only; a named outbox
is private, so the dead-letter commands are tried here on KurrentDB too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from event_sourcery import Event, Recorded, StreamId
from event_sourcery_cli import app
from event_sourcery_kurrentdb import KurrentDBBackend
from kurrentdb_emulator import Emulator
from kurrentdbclient import KurrentDBClient
from typer.testing import CliRunner


class CliBilled(Event):
    amount: int


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as running:
        yield running


def _fail(record: Recorded) -> None:
    raise ConnectionError("broker down")


def test_dead_letters_retry_and_purge_of_a_named_outbox(emulator: Emulator) -> None:
    name = f"cli-{uuid4().hex[:12]}"
    client = KurrentDBClient(emulator.uri)
    backend = KurrentDBBackend(client, outbox_name=name).with_outbox(max_attempts=1)
    stream = StreamId(category=f"cli{uuid4().hex[:12]}")
    backend.event_store.append(CliBilled(amount=1), CliBilled(amount=2), stream_id=stream)
    backend.outbox.run(_fail, limit=1000)

    def cli(*args: str) -> Any:
        command = ["--url", emulator.uri, "outbox", "--outbox-name", name, *args]
        return CliRunner().invoke(app, command)

    listed = cli("dead-letters", "--max-attempts", "1", "--json")
    assert listed.exit_code == 0, listed.output
    first, second = [row["id"] for row in json.loads(listed.stdout)]
    assert json.loads(cli("status", "--max-attempts", "1", "--json").stdout)["dead_letters"] == 2
    assert cli("retry", str(first)).exit_code == 0
    assert cli("purge", str(second), "--yes").exit_code == 0
    assert json.loads(cli("dead-letters", "--max-attempts", "1", "--json").stdout) == []
    # The default outbox was never touched by this test's entries.
    default = CliRunner().invoke(app, ["--url", emulator.uri, "outbox", "dead-letters", "--json"])
    assert all(row["stream_id"] != str(stream.uuid) for row in json.loads(default.stdout))
    client.close()
