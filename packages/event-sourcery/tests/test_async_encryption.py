"""The asyncio path of encryption: keys awaited first, then the sync path's pure step."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Annotated
from uuid import uuid4

import pytest
from event_sourcery import AsyncEventStore, Event, EventRegistry, RawEvent, StreamId, WrappedEvent
from event_sourcery._async_encryption import (
    keys_for_append,
    keys_for_reading,
    shred,
    store_added,
)
from event_sourcery._encryption import key_ids_in, subjects_of
from event_sourcery.encryption import (
    AsyncKeyStorage,
    AwaitedKeys,
    DataSubject,
    Encrypted,
    Encryption,
    EncryptionStrategy,
    InMemoryKeyStorage,
    KeyRing,
    StoredKey,
)
from event_sourcery.exceptions import InvalidInput


class Registered(Event):
    user: Annotated[str, DataSubject]
    email: Annotated[str, Encrypted(mask_value="[gone]")]


class Plain(Event):
    note: str


class Reversing(EncryptionStrategy):
    """Not a cipher: enough to tell ciphertext from plaintext in a test."""

    def new_key(self) -> bytes:
        return b"k"

    def encrypt(self, plaintext: bytes, key: bytes) -> bytes:
        return plaintext[::-1]

    def decrypt(self, ciphertext: bytes, key: bytes) -> bytes:
        return ciphertext[::-1]


class AsyncMemoryKeys(AsyncKeyStorage):
    """`InMemoryKeyStorage` awaited, counting the calls."""

    def __init__(self) -> None:
        self.keys = InMemoryKeyStorage()
        self.calls: list[str] = []

    async def current(self, subject_id: str, tenant_id: str | None) -> StoredKey | None:
        self.calls.append(f"current {subject_id}")
        return self.keys.current(subject_id, tenant_id)

    async def find(self, key_id: str, tenant_id: str | None) -> StoredKey | None:
        self.calls.append("find")
        return self.keys.find(key_id, tenant_id)

    async def add(self, key: StoredKey, tenant_id: str | None) -> None:
        self.calls.append(f"add {key.subject_id}")
        self.keys.add(key, tenant_id)

    async def delete_subject(self, subject_id: str, tenant_id: str | None) -> None:
        self.calls.append(f"delete {subject_id}")
        self.keys.delete_subject(subject_id, tenant_id)


def _encryption(source: AsyncKeyStorage) -> Encryption:
    return Encryption(Reversing(), AwaitedKeys(source))


async def _encrypt(
    encryption: Encryption, event: Registered, tenant: str | None
) -> dict[str, object]:
    bound, ring = await keys_for_append(encryption, [event], tenant)
    assert bound is not None
    data = bound.encrypt(Registered, event.model_dump(mode="json"), tenant)
    await store_added(encryption, ring)
    return data


def _stored(data: dict[str, object]) -> RawEvent:
    """`data` as a backend hands it back: the JSON text it stored."""
    created = datetime.now(UTC)
    return RawEvent(uuid4(), StreamId(uuid4()), "Registered", 1, created, json.dumps(data))


def test_subjects_of_events_and_wrapped_events_skip_plain_and_invalid() -> None:
    events = [
        Registered(user="u1", email="a@x"),
        WrappedEvent.wrap(Registered(user="u2", email="b@x"), 1),
        Registered(user="", email="c@x"),
        Plain(note="n"),
        "not an event",
    ]
    assert subjects_of(events) == {"u1", "u2"}


def test_key_ids_in_dict_and_json_text() -> None:
    assert key_ids_in({"email": "es-enc:1:abc:Zm9v", "user": "u"}) == {"abc"}
    assert key_ids_in('{"email": "es-enc:1:abc:Zm9v", "x": "es-enc:1:def:YQ=="}') == {"abc", "def"}
    assert key_ids_in('{"note": "n"}') == set()
    assert key_ids_in(None) == set()


def test_key_ring_records_only_keys_the_step_made() -> None:
    ring = KeyRing()
    fetched, made = StoredKey("k1", "u1", b"a"), StoredKey("k2", "u2", b"b")
    ring.load(fetched, "t")
    ring.add(made, "t")
    assert ring.current("u1", "t") == fetched
    assert ring.find("k2", "t") == made
    assert ring.added == [(made, "t")]


def test_awaited_keys_refuse_synchronous_calls() -> None:
    keys = AwaitedKeys(AsyncMemoryKeys())
    with pytest.raises(InvalidInput):
        keys.current("u", None)
    with pytest.raises(InvalidInput):
        keys.find("k", None)
    with pytest.raises(InvalidInput):
        keys.add(StoredKey("k", "u", b"k"), None)
    with pytest.raises(InvalidInput):
        keys.delete_subject("u", None)


def test_append_fetches_first_then_stores_the_new_key_once() -> None:
    source = AsyncMemoryKeys()
    encryption = _encryption(source)
    event = Registered(user="u1", email="a@x")

    first = asyncio.run(_encrypt(encryption, event, "t"))
    second = asyncio.run(_encrypt(encryption, event, "t"))

    assert source.calls == ["current u1", "add u1", "current u1"]
    assert str(first["email"]).startswith("es-enc:1:")
    assert key_ids_in(first) == key_ids_in(second)


def test_reading_decrypts_with_fetched_keys_and_masks_after_ashred() -> None:
    source = AsyncMemoryKeys()
    encryption = _encryption(source)
    data = asyncio.run(_encrypt(encryption, Registered(user="u1", email="a@x"), "t"))

    async def read() -> dict[str, object]:
        bound = await keys_for_reading(encryption, [(_stored(data), "t")])
        assert bound is not None
        return bound.decrypt(Registered, data, "t")

    assert asyncio.run(read())["email"] == "a@x"
    asyncio.run(shred(encryption, "u1", "t"))
    assert asyncio.run(read())["email"] == "[gone]"


def test_keys_are_fetched_per_tenant() -> None:
    source = AsyncMemoryKeys()
    encryption = _encryption(source)
    data = asyncio.run(_encrypt(encryption, Registered(user="u1", email="a@x"), "t"))

    async def read(tenant: str | None) -> object:
        bound = await keys_for_reading(encryption, [(_stored(data), tenant)])
        assert bound is not None
        return bound.decrypt(Registered, data, tenant)["email"]

    assert asyncio.run(read(None)) == "[gone]"


def test_shred_checks_the_subject_id() -> None:
    with pytest.raises(InvalidInput):
        asyncio.run(shred(_encryption(AsyncMemoryKeys()), "", None))


def test_a_sync_key_storage_is_used_as_it_is() -> None:
    encryption = Encryption(Reversing(), InMemoryKeyStorage())
    assert asyncio.run(keys_for_append(encryption, [], None)) == (encryption, None)
    assert asyncio.run(keys_for_reading(encryption, [])) is encryption
    assert asyncio.run(keys_for_reading(None, [])) is None
    asyncio.run(shred(encryption, "u1", None))


def test_reading_parses_no_payload_it_was_handed_as_text() -> None:
    """Keys are found in the stored text; without awaited keys nothing is read at all."""
    data = asyncio.run(
        _encrypt(_encryption(AsyncMemoryKeys()), Registered(user="u", email="e"), None)
    )
    plain, encrypted = _stored({"note": "n"}), _stored(data)
    assert asyncio.run(keys_for_reading(None, [(plain, None)])) is None
    sync = Encryption(Reversing(), InMemoryKeyStorage())
    assert asyncio.run(keys_for_reading(sync, [(plain, None)])) is sync
    assert asyncio.run(keys_for_reading(_encryption(AsyncMemoryKeys()), [(encrypted, None)]))
    assert plain._data is None
    assert encrypted._data is None


class _TextStorage:
    """Just enough of an `AsyncStorageStrategy` for a load: the events it was given."""

    tenant_id = None

    def __init__(self, raws: list[RawEvent]) -> None:
        self.raws = raws

    async def fetch_events(
        self, stream_id: StreamId, start: int | None, stop: int | None
    ) -> list[RawEvent]:
        return self.raws


def test_an_async_load_without_encryption_parses_each_payload_once() -> None:
    """The keys step reads no payload; the decode step validates the stored text directly."""
    registry = EventRegistry()
    registry.add(Plain, name="Plain")
    created = datetime.now(UTC)
    raw = RawEvent(uuid4(), StreamId(uuid4()), "Plain", 1, created, '{"note": "n"}', "{}")
    store = AsyncEventStore(_TextStorage([raw]), registry)  # type: ignore[arg-type]

    loaded = asyncio.run(store.load_stream(raw.stream_id))

    assert [wrapped.event for wrapped in loaded] == [Plain(note="n")]
    assert raw._data is None
