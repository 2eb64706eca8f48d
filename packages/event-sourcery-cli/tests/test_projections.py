"""``projections list`` on SQLite: checkpoints by name, and the lag behind the log."""

from __future__ import annotations

import json
from uuid import uuid4

from event_sourcery import Event, Projector, StreamId
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from sqlalchemy.orm import Session

from .conftest import Run


class Counted(Event):
    n: int


def test_lists_checkpoint_and_lag(run: Run, backend: SQLAlchemyBackend, session: Session) -> None:
    category, name = f"cli{uuid4().hex[:12]}", f"proj-{uuid4().hex}"
    stream = StreamId(category=category)
    backend.event_store.append(Counted(n=1), Counted(n=2), stream_id=stream)
    session.commit()
    projector = Projector(backend, name=name, handler=lambda _: None, categories=[category])
    while projector.run_once():
        session.commit()
    checkpoint = projector.position
    session.commit()
    backend.event_store.append(Counted(n=3), stream_id=StreamId(category=f"other{category}"))
    session.commit()

    result = run("projections", "list", "--json")

    assert result.exit_code == 0, result.output
    (row,) = [row for row in json.loads(result.stdout) if row["name"] == name]
    assert row["checkpoint"] == checkpoint
    assert row["lag"] == row["head"] - checkpoint >= 1


def test_an_empty_list_is_a_header_only(run: Run) -> None:
    result = run("projections", "list")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "name\tcheckpoint\tlag"
