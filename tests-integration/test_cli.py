"""The `event-sourcery` command line on PostgreSQL, MariaDB and the KurrentDB emulator.

The package's own tests cover every command on SQLite; these check that each server's
backend is found by its URL scheme and that what the commands read and change is right
there too. The databases are shared by parallel tests: every check looks at its own streams
and outbox entries only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import pytest
from event_sourcery import Backend, Event, Projector, Recorded, StreamId
from event_sourcery_cli import app
from event_sourcery_kurrentdb import KurrentDBBackend
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from kurrentdb_emulator import Emulator
from kurrentdbclient import KurrentDBClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner


class CliOpened(Event):
    owner: str


@dataclass
class Store:
    """A store as the command line reaches it (`url`) and as the test writes to it."""

    url: str
    backend: Backend
    commit: Callable[[], None]

    def run(self, *args: str, input: str | None = None) -> Any:
        return CliRunner().invoke(app, ["--url", self.url, *args], input=input)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as running:
        yield running


@pytest.fixture(params=["postgresql", "mariadb", "kurrentdb"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "kurrentdb":
        emulator: Emulator = request.getfixturevalue("emulator")
        client = KurrentDBClient(emulator.uri)
        # The command line uses the default outbox, which other runs on the same server
        # share: the outbox test below runs on the SQL servers only.
        yield Store(emulator.uri, KurrentDBBackend(client), lambda: None)
        client.close()
        return
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    with Session(engine) as session:
        yield Store(
            engine.url.render_as_string(hide_password=False),
            SQLAlchemyBackend(session),
            session.commit,
        )


def test_streams_list_show_tail_and_stats(store: Store) -> None:
    category, tenant = f"cli{uuid4().hex[:12]}", f"t{uuid4().hex[:10]}"
    named = StreamId(name=f"acc-{uuid4()}", category=category)
    before = json.loads(store.run("stats", "--json").stdout)
    store.backend.in_tenant_mode(tenant).event_store.append(
        CliOpened(owner="ann"), CliOpened(owner="bob"), stream_id=named
    )
    store.commit()

    listed = store.run("--tenant", tenant, "streams", "list", "--category", category, "--json")
    assert listed.exit_code == 0, listed.output
    assert [(row["stream_id"], row["name"], row["events"], row["last_version"]) for row in
            json.loads(listed.stdout)] == [(str(named.uuid), named.name, 2, 2)]  # fmt: skip

    assert named.name is not None
    shown = store.run(
        "--tenant", tenant, "streams", "show", named.name, "--category", category, "--data",
        "--json",
    )  # fmt: skip
    assert shown.exit_code == 0, shown.output
    assert [row["data"] for row in json.loads(shown.stdout)] == [{"owner": "ann"}, {"owner": "bob"}]

    tailed = store.run("--tenant", tenant, "log", "tail", "-n", "1", "--data", "--json")
    assert tailed.exit_code == 0, tailed.output
    assert [json.loads(line)["data"] for line in tailed.stdout.splitlines()] == [{"owner": "bob"}]

    after = json.loads(store.run("stats", "--json").stdout)
    assert after["events"] >= before["events"] + 2
    assert after["tenants"] >= before["tenants"] + 1


def _fail(record: Recorded) -> None:
    raise ConnectionError("broker down")


# Not on KurrentDB: the command line reaches its default outbox, which a real server shares
# with other runs, and running this test's failing publisher there would dead-letter their
# entries. The SQL servers' databases are private to the run.
@pytest.mark.parametrize("store", ["postgresql", "mariadb"], indirect=True)
def test_outbox_dead_letters_retry_and_purge(store: Store) -> None:
    box = store.backend.with_outbox(max_attempts=1)
    stream = StreamId(category=f"cli{uuid4().hex[:12]}")
    box.event_store.append(CliOpened(owner="a"), CliOpened(owner="b"), stream_id=stream)
    store.commit()
    box.outbox.run(_fail, limit=1000)
    store.commit()

    def mine() -> list[int]:
        result = store.run("outbox", "dead-letters", "--max-attempts", "1", "--limit", "100000",
                           "--json")  # fmt: skip
        assert result.exit_code == 0, result.output
        rows = json.loads(result.stdout)
        return [row["id"] for row in rows if row["stream_id"] == str(stream.uuid)]

    first, second = mine()
    assert store.run("outbox", "retry", str(first)).exit_code == 0
    assert mine() == [second]
    assert store.run("outbox", "purge", str(second), "--yes").exit_code == 0
    assert mine() == []


def test_projections_list_shows_the_checkpoint(store: Store) -> None:
    category, name = f"cli{uuid4().hex[:12]}", f"proj-{uuid4().hex}"
    store.backend.event_store.append(CliOpened(owner="a"), stream_id=StreamId(category=category))
    store.commit()
    projector = Projector(store.backend, name=name, handler=lambda _: None, categories=[category])
    while projector.run_once():
        store.commit()
    checkpoint = projector.position
    store.commit()

    result = store.run("projections", "list", "--json")

    assert result.exit_code == 0, result.output
    (row,) = [row for row in json.loads(result.stdout) if row["name"] == name]
    assert row["checkpoint"] == checkpoint
    assert row["lag"] == max(row["head"] - checkpoint, 0)
