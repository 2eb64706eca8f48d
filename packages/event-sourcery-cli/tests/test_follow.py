"""``log tail --follow`` in a real process: live events, and Ctrl-C ends it cleanly."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from uuid import uuid4

from event_sourcery import Event, StreamId
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from sqlalchemy.orm import Session


class Pinged(Event):
    n: int


def test_follow_prints_new_events_and_stops_on_ctrl_c(
    url: str, backend: SQLAlchemyBackend, session: Session
) -> None:
    stream = StreamId(category=f"cli{uuid4().hex[:12]}")
    backend.event_store.append(Pinged(n=1), stream_id=stream)
    session.commit()
    command = [sys.executable, "-m", "event_sourcery_cli", "--url", url]
    process = subprocess.Popen(
        [*command, "log", "tail", "-n", "1", "--follow", "--json", "--data"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert json.loads(process.stdout.readline())["data"] == {"n": 1}  # it is following
        backend.event_store.append(Pinged(n=2), stream_id=stream, expected_version=1)
        session.commit()
        assert json.loads(process.stdout.readline())["data"] == {"n": 2}
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait()

    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
