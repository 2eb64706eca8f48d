"""The outbox's own streams: claims are exclusive, published entries get truncated away."""

from __future__ import annotations

from uuid import uuid4

import pytest
from event_sourcery import Recorded, StreamId
from event_sourcery_kurrentdb import KurrentDBBackend
from event_sourcery_kurrentdb import _outbox as outbox_module
from kurrentdbclient import KurrentDBClient

from ._events import Noted


@pytest.fixture
def own_outbox(kurrentdb_client: KurrentDBClient) -> KurrentDBBackend:
    return KurrentDBBackend(kurrentdb_client, outbox_name=f"own{uuid4().hex}")


def test_published_entries_are_truncated_away(
    own_outbox: KurrentDBBackend,
    kurrentdb_client: KurrentDBClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(outbox_module, "TRUNCATE_EVERY", 3)
    writer = own_outbox.with_outbox()
    for n in range(5):
        writer.event_store.append(Noted(text=str(n)), stream_id=StreamId())
    published: list[Recorded] = []
    while own_outbox.outbox.run(published.append, limit=2):
        pass
    own_outbox.outbox.run(published.append)  # one more claim sees that all are done
    assert [r.wrapped_event.event.text for r in published] == ["0", "1", "2", "3", "4"]
    entries = f"es$outbox-{own_outbox._outbox_name}"
    metadata, _ = kurrentdb_client.get_stream_metadata(entries)
    assert metadata["$tb"] >= 3
    assert len(kurrentdb_client.get_stream(entries)) <= 2


def test_a_second_claim_skips_what_the_first_holds(own_outbox: KurrentDBBackend) -> None:
    writer = own_outbox.with_outbox()
    writer.event_store.append(Noted(text="a"), Noted(text="b"), stream_id=StreamId())
    first = own_outbox._outbox_strategy().claim(1, 3)
    second = own_outbox._outbox_strategy().claim(10, 3)
    assert [e.id for e in first] != [e.id for e in second]
    assert len(first) == len(second) == 1
    assert own_outbox._outbox_strategy().claim(10, 3) == []
