"""Encryption on the asyncio path: the keys a batch needs are awaited first, then the pure
encrypt/decrypt step of `Encryption` (the sync path's own) runs over them as data (`KeyRing`).

An asyncio backend binds its `Encryption` to `AwaitedKeys`, which carries the backend's
`AsyncKeyStorage`; the async store and subscriber call `keys_for_append` / `keys_for_reading`
before encoding or decoding. An encryption over a sync `KeyStorage` (given to
`with_encryption`) is used as it is.
"""

from __future__ import annotations

from collections.abc import Iterable

from event_sourcery._encryption import (
    AsyncKeyStorage,
    Encryption,
    KeyRing,
    KeyStorage,
    StoredKey,
    key_ids_in,
    subjects_of,
)
from event_sourcery._raw import RawEvent
from event_sourcery.exceptions import InvalidInput


class AwaitedKeys(KeyStorage):
    """The key storage of an asyncio backend's `Encryption`: keys are awaited from `source`
    ahead of each step (see the module); a synchronous call raises `InvalidInput`."""

    def __init__(self, source: AsyncKeyStorage) -> None:
        self.source = source

    def _sync(self) -> InvalidInput:
        return InvalidInput("this backend's keys are awaited: use its asyncio API")

    def current(self, subject_id: str, tenant_id: str | None) -> StoredKey | None:
        raise self._sync()

    def find(self, key_id: str, tenant_id: str | None) -> StoredKey | None:
        raise self._sync()

    def add(self, key: StoredKey, tenant_id: str | None) -> None:
        raise self._sync()

    def delete_subject(self, subject_id: str, tenant_id: str | None) -> None:
        raise self._sync()


def _source(encryption: Encryption | None) -> AsyncKeyStorage | None:
    if encryption is None:
        return None
    keys = encryption.key_storage
    return keys.source if isinstance(keys, AwaitedKeys) else None


async def keys_for_append(
    encryption: Encryption | None, events: Iterable[object], tenant_id: str | None
) -> tuple[Encryption | None, KeyRing | None]:
    """The encryption to encode `events` with (over a ring of their subjects' current keys),
    and the ring, whose `added` keys `store_added` stores after the encode step."""
    source = _source(encryption)
    if source is None or encryption is None:
        return encryption, None
    ring = KeyRing()
    for subject in sorted(subjects_of(events)):
        key = await source.current(subject, tenant_id)
        if key is not None:
            ring.load(key, tenant_id)
    return encryption.with_key_storage(ring), ring


async def store_added(encryption: Encryption | None, ring: KeyRing | None) -> None:
    """Store the keys the encode step made (in the current transaction)."""
    source = _source(encryption)
    if source is None or ring is None:
        return
    for key, tenant_id in ring.added:
        await source.add(key, tenant_id)


async def keys_for_reading(
    encryption: Encryption | None, stored: Iterable[tuple[RawEvent, str | None]]
) -> Encryption | None:
    """The encryption to decode events with: over a ring of the keys their ciphertexts name.

    Without awaited keys this reads nothing of `stored` (a load without encryption parses no
    payload here; the decode step does, once); with them, each payload is scanned as the text
    it was stored as when the backend handed that over, never parsed twice.

    Args:
        stored: each event's stored form and its tenant.
    """
    source = _source(encryption)
    if source is None or encryption is None:
        return encryption
    ring = KeyRing()
    wanted = {(tenant, key_id) for raw, tenant in stored for key_id in key_ids_in(_payload(raw))}
    for tenant, key_id in sorted(wanted, key=lambda pair: (pair[0] or "", pair[1])):
        key = await source.find(key_id, tenant)
        if key is not None:
            ring.load(key, tenant)
    return encryption.with_key_storage(ring)


def _payload(raw: RawEvent) -> object:
    """`raw`'s stored `data`: its JSON text if it came as text (not parsed), else the dict."""
    text = raw.data_text
    return text if text is not None else raw.data


async def shred(encryption: Encryption, subject_id: str, tenant_id: str | None) -> None:
    """`Encryption.shred`, awaiting the key storage where it is awaited."""
    source = _source(encryption)
    if source is None:
        encryption.shred(subject_id, tenant_id=tenant_id)
    else:
        await source.delete_subject(Encryption.check_subject_id(subject_id), tenant_id)
