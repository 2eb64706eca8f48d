"""An append's positions are its events' ids, in the events' order, however many INSERTs it
takes.

SQLite reports them without RETURNING: the last new row's id and the row count, as one writer
at a time draws a multi-row INSERT's ids consecutively. Pinned with more events than one
INSERT carries (500), right after the newest events of the log were deleted, whose ids
AUTOINCREMENT never hands out again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from event_sourcery import Event, StreamId
from event_sourcery.interfaces import RawEvent
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

pytestmark = pytest.mark.parametrize(
    "database_engine", ["sqlite_file", "postgresql", "mariadb"], indirect=True
)


class Noted(Event):
    __event_name__ = "es_integration.positions.Noted"
    n: int


def _ids(session: Session, category: str) -> list[int]:
    rows = session.execute(
        text(
            "SELECT e.id FROM event_sourcery_events e JOIN event_sourcery_streams s "
            "ON s.id = e.stream_id WHERE s.category = :category ORDER BY e.version"
        ),
        {"category": category},
    )
    return [int(row[0]) for row in rows]


def test_the_positions_of_a_long_append_are_its_events_ids_in_order(
    database_engine: Engine,
) -> None:
    category = f"positions{uuid4().hex[:12]}"
    at = datetime.now(UTC)
    with Session(database_engine) as session:
        store = SQLAlchemyBackend(session).event_store
        doomed = StreamId(category=category)
        store.append(*[Noted(n=n) for n in range(3)], stream_id=doomed)
        session.commit()
        deleted = _ids(session, category)
        store.delete_stream(doomed)
        session.commit()

        stream = StreamId(category=category)
        raws = [
            RawEvent(uuid4(), stream, "es_integration.positions.Noted", n, at, "{}", "{}")
            for n in range(1, 1202)
        ]
        positions = store.append_raw(*raws)
        session.commit()

        assert positions == _ids(session, category)
        assert positions == sorted(positions)
        assert positions[0] > max(deleted)
        # A second append to it reads its one new position the same way.
        raw = RawEvent(uuid4(), stream, "es_integration.positions.Noted", 1202, at, "{}", "{}")
        assert store.append_raw(raw, expected_version=1201) == _ids(session, category)[-1:]
        session.commit()
