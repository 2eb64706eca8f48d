"""The command line on SQLite, through Typer's runner."""

from __future__ import annotations

import json
from uuid import uuid4

import pytest
from event_sourcery import Event, StreamId
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from sqlalchemy.orm import Session

from .conftest import Run


class Opened(Event):
    owner: str


class Deposited(Event):
    amount: int


def _category() -> str:
    return f"cli{uuid4().hex[:12]}"


def test_streams_list_counts_events_per_stream(
    run: Run, backend: SQLAlchemyBackend, session: Session
) -> None:
    category = _category()
    first, second = StreamId(category=category), StreamId(name=f"acc-{uuid4()}", category=category)
    backend.event_store.append(Opened(owner="ann"), Deposited(amount=5), stream_id=first)
    backend.event_store.append(Opened(owner="bob"), stream_id=second)
    backend.event_store.append(Opened(owner="eve"), stream_id=StreamId(category=_category()))
    session.commit()

    result = run("streams", "list", "--category", category, "--json")

    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(row["stream_id"], row["events"], row["last_version"]) for row in rows] == [
        (str(first.uuid), 2, 2),
        (str(second.uuid), 1, 1),
    ]
    assert rows[1]["name"] == second.name
    assert {row["category"] for row in rows} == {category}


def test_streams_list_piped_is_tab_separated_with_a_header(
    run: Run, backend: SQLAlchemyBackend, session: Session
) -> None:
    category = _category()
    stream = StreamId(category=category)
    backend.event_store.append(Opened(owner="ann"), stream_id=stream)
    session.commit()

    result = run("streams", "list", "--category", category)

    assert result.exit_code == 0, result.output
    header, line = result.stdout.splitlines()
    assert header.split("\t")[:3] == ["stream_id", "name", "category"]
    assert line.split("\t")[:5] == [str(stream.uuid), "-", category, "-", "1"]
    assert "\x1b[" not in result.stdout  # no colour when piped


def test_streams_list_of_a_tenant(run: Run, backend: SQLAlchemyBackend, session: Session) -> None:
    category, tenant = _category(), f"t{uuid4().hex[:10]}"
    backend.in_tenant_mode(tenant).event_store.append(
        Opened(owner="ann"), stream_id=StreamId(category=category)
    )
    backend.event_store.append(Opened(owner="bob"), stream_id=StreamId(category=category))
    session.commit()

    rows = json.loads(run("--tenant", tenant, "streams", "list", "--json").stdout)

    assert [(row["tenant"], row["category"]) for row in rows] == [(tenant, category)]


def test_streams_show_by_name_with_data(
    run: Run, backend: SQLAlchemyBackend, session: Session
) -> None:
    category = _category()
    stream = StreamId(name=f"acc-{uuid4()}", category=category)
    backend.event_store.append(Opened(owner="ann"), Deposited(amount=7), stream_id=stream)
    session.commit()
    assert stream.name is not None

    result = run("streams", "show", stream.name, "--category", category, "--data", "--json")

    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(row["version"], row["data"]) for row in rows] == [
        (1, {"owner": "ann"}),
        (2, {"amount": 7}),
    ]
    assert rows[0]["type"].endswith("Opened")


def test_streams_show_by_uuid(run: Run, backend: SQLAlchemyBackend, session: Session) -> None:
    stream = StreamId()
    backend.event_store.append(Opened(owner="ann"), stream_id=stream)
    session.commit()

    result = run("streams", "show", str(stream.uuid))

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].split("\t") == [
        "version",
        "type",
        "created_at",
        "event_id",
    ]


def test_streams_show_of_a_missing_stream_is_one_line_and_exit_1(run: Run) -> None:
    result = run("streams", "show", f"nobody-{uuid4()}")

    assert result.exit_code == 1
    assert result.stderr.startswith("error: no stream ")
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.output


def test_debug_shows_the_exception(run: Run) -> None:
    result = run("--debug", "streams", "show", f"nobody-{uuid4()}")

    assert result.exit_code == 1
    assert result.exception is not None
    assert "no stream" in str(result.exception)


def test_log_tail_shows_the_last_events_oldest_first(
    run: Run, backend: SQLAlchemyBackend, session: Session
) -> None:
    stream = StreamId(category=_category())
    backend.event_store.append(*(Deposited(amount=i) for i in range(5)), stream_id=stream)
    session.commit()

    result = run("log", "tail", "-n", "3", "--data", "--json")

    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["data"] for row in rows] == [{"amount": 2}, {"amount": 3}, {"amount": 4}]
    assert rows[0]["position"] < rows[1]["position"] < rows[2]["position"]


def test_stats_counts_the_store(run: Run, backend: SQLAlchemyBackend, session: Session) -> None:
    before = json.loads(run("stats", "--json").stdout)
    tenant = f"t{uuid4().hex[:10]}"
    backend.in_tenant_mode(tenant).event_store.append(
        Opened(owner="ann"), Deposited(amount=1), stream_id=StreamId(category=_category())
    )
    session.commit()

    after = json.loads(run("stats", "--json").stdout)

    assert after["events"] == before["events"] + 2
    assert after["streams"] == before["streams"] + 1
    assert after["categories"] == before["categories"] + 1
    assert after["tenants"] == before["tenants"] + 1


def test_url_from_the_environment(run: Run, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENT_SOURCERY_URL", url)

    result = run("stats", "--json", url=None)

    assert result.exit_code == 0, result.output
    assert "events" in json.loads(result.stdout)


def test_no_url_is_an_error_naming_the_option(run: Run) -> None:
    result = run("stats", url=None)

    assert result.exit_code == 1
    assert "--url" in result.stderr


def test_an_unknown_scheme_names_the_served_ones(run: Run) -> None:
    result = run("stats", url="nosuchdb://somewhere")

    assert result.exit_code == 1
    assert "'nosuchdb'" in result.stderr
    assert "sqlite" in result.stderr


def test_a_password_in_the_url_is_never_printed(run: Run) -> None:
    result = run("stats", url="nosuchdb://user:s3cr3t@somewhere")

    assert "s3cr3t" not in result.output


def test_a_bad_option_is_a_usage_error(run: Run) -> None:
    assert run("log", "tail", "-n", "-1").exit_code == 2


def test_force_color_does_not_turn_piped_output_into_a_table(
    run: Run, backend: SQLAlchemyBackend, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    category = _category()
    backend.event_store.append(Opened(owner="ann"), stream_id=StreamId(category=category))
    session.commit()
    monkeypatch.setenv("FORCE_COLOR", "1")  # as CI sets it

    result = run("streams", "list", "--category", category)

    assert result.stdout.splitlines()[0].startswith("stream_id\tname\t")


def test_piped_standard_error_stays_empty_on_success(
    run: Run, backend: SQLAlchemyBackend, session: Session
) -> None:
    backend.event_store.append(Opened(owner="ann"), stream_id=StreamId(category=_category()))
    session.commit()

    for command in (("stats",), ("streams", "list"), ("log", "tail")):
        result = run(*command)
        assert result.exit_code == 0, result.output
        assert result.stderr == ""  # no spinner when not on a terminal
