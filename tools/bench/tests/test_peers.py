"""The peer columns of the harness: what a peer runs, how its figures are compared, and that a
peer whose environment cannot be built is left out loudly, never a crash. No timing asserted."""

from __future__ import annotations

from pathlib import Path

import pytest
from event_sourcery_bench import _peers
from event_sourcery_bench._harness import Result, peer_table
from event_sourcery_bench._payload import payment
from event_sourcery_bench.peers._common import payment_fields, writers


def _result(unit: str, library: list[float], peers: dict[str, list[float]]) -> Result:
    return Result("W1", "t", "sqlite-wal", unit, 10, library, [1.0], 1.0, "", None, peers)


def test_the_peers_payload_is_the_harness_payload() -> None:
    for n in (0, 1, 976, 977, 123_456):
        assert payment(n).model_dump() == payment_fields(n)


def test_w6_runs_4_writers_16_for_saturation_and_2_in_a_quick_run() -> None:
    assert writers({"workload": "W6", "size": 3200}) == 4
    assert writers({"workload": "W6s", "size": 3200}) == 16
    assert writers({"workload": "W6s", "size": 40}) == 2


def test_a_peer_runs_its_workloads_on_sqlite_and_postgresql_only(tmp_path: Path) -> None:
    application = next(p for p in _peers.PEERS if p.name == "eventsourcing-app")
    column = _peers.PeerColumn(application, Path("python"), tmp_path)
    assert column.runs("W1", "sqlite")
    assert column.runs("W4", "postgresql")
    assert not column.runs("W5", "sqlite")
    assert not column.runs("W1", "mariadb")
    assert not column.runs("W1", "")


def test_ours_against_the_best_peer_is_a_speed_up_for_rates_and_times() -> None:
    rates = _result("events/s", [300.0], {"a": [100.0], "b": [200.0, 150.0, 250.0]})
    times = _result("ms", [10.0], {"a": [20.0], "b": [8.0]})
    lines = peer_table([rates, times]).splitlines()
    assert lines[0].endswith("| a | b | best peer | ours / best peer |")
    assert lines[2].endswith("| b | 1.50x |")
    assert lines[3].endswith("| b | 0.80x |")


def test_rows_without_peers_stay_out_of_the_peer_table() -> None:
    assert len(peer_table([_result("events/s", [1.0], {})]).splitlines()) == 2


def test_a_peer_whose_environment_cannot_be_built_is_left_out_loudly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(requirements: tuple[str, ...]) -> Path:
        if requirements[0].startswith("python-event-sourcery"):
            raise RuntimeError("no matching distribution")
        return Path("python")

    monkeypatch.setattr(_peers, "environment", broken)
    columns = _peers.peer_columns(_peers.PEER_NAMES, tmp_path)
    assert [c.peer.name for c in columns] == ["eventsourcing", "eventsourcing-app"]
    assert "!! peer python-event-sourcery left out" in capsys.readouterr().out


def test_an_environment_that_cannot_be_built_raises_with_the_installers_words(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(RuntimeError):
        _peers.environment(("!!not-a-requirement",))
