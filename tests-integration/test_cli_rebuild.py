"""``projections rebuild`` of 100,000 events on PostgreSQL, with its progress bar on a terminal.

The store is a database of its own (the rebuild reads the whole log). The application is
``_cli_rebuild_app.py``, loaded by ``--app`` in a subprocess whose standard error is a
pseudo-terminal, so Rich draws the bar as it would for a user.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from event_sourcery import StreamId
from event_sourcery_cli._connect import open_store
from event_sourcery_sqlalchemy import configure_models
from sqlalchemy import URL, MetaData, create_engine, text

HERE = Path(__file__).resolve().parent
APP = "_cli_rebuild_app:make_worker"
EVENTS = 100_000


def _on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Run the command with standard error on a pseudo-terminal: exit code, stdout, stderr."""
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "event_sourcery_cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=secondary,
        text=True,
    )
    os.close(secondary)
    terminal = bytearray()
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        terminal.extend(chunk)
    os.close(primary)
    out = process.stdout.read() if process.stdout else ""
    return process.wait(timeout=60), out, terminal.decode(errors="replace")


@pytest.mark.slow
def test_rebuild_of_100000_events_shows_progress_and_equals_a_fresh_projection(
    empty_database: Callable[[str], URL],
) -> None:
    url = empty_database("postgresql")
    metadata = MetaData()
    configure_models(metadata)
    engine = create_engine(url)
    metadata.create_all(engine)
    rendered = url.render_as_string(hide_password=False)
    env = {
        **os.environ,
        "ES_REBUILD_URL": rendered,
        "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path]),
        "COLUMNS": "140",
    }
    sys.path.insert(0, str(HERE))
    try:
        from _cli_rebuild_app import Earned
    finally:
        sys.path.remove(str(HERE))
    expected_events: Counter[str] = Counter()
    expected_amount: Counter[str] = Counter()
    with open_store(rendered) as backend:
        for n in range(EVENTS // 1000):
            category = f"team{n % 7}"
            backend.event_store.append(
                *(Earned(amount=i) for i in range(1000)), stream_id=StreamId(category=category)
            )
            expected_events[category] += 1000
            expected_amount[category] += sum(range(1000))
    # A worker round first: the read model holds a batch when the rebuild starts.
    once = subprocess.run(
        [sys.executable, "-m", "event_sourcery_cli", "worker", "--app", APP, "--once"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert once.stdout == "handled 1000 events\n", once.stderr

    code, out, terminal = _on_a_terminal(["projections", "rebuild", "totals", "--app", APP], env)

    assert code == 0, terminal
    assert out == f"rebuilt totals: {EVENTS} events applied\n"
    assert "rebuilding totals" in terminal
    assert "events/s" in terminal
    assert "ETA" in terminal
    assert "100%" in terminal
    assert f"{EVENTS} events" in terminal
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT category, events, amount FROM rebuild_totals"))
        found = {category: (events, amount) for category, events, amount in rows}
    engine.dispose()
    assert found == {c: (n, expected_amount[c]) for c, n in expected_events.items()}
