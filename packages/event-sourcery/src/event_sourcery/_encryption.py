"""Crypto-shredding: field-level encryption with one key per data subject.

Fields marked `Encrypted` are stored as ciphertext under a key of the event's data subject (the
field marked `DataSubject`, or `Encrypted(subject_field=...)`). `shred(subject)` deletes the
subject's keys: from then on those fields read as their mask, and nothing in the database can
recover them. The key id travels with each ciphertext, so keys can rotate.

No plaintext of an encrypted field, and no key, ever appears in a log, a repr or an exception.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from event_sourcery._event import Event
from event_sourcery._limits import check_stream_label
from event_sourcery.exceptions import EventSerializationError, InvalidEvent, InvalidInput

_TOKEN = "es-enc:1:"


class DataSubject:
    """Marks the field holding the data subject's id: `Annotated[str, DataSubject]`."""


@dataclass(frozen=True)
class Encrypted:
    """Marks a field stored encrypted: `Annotated[str, Encrypted(mask_value="[REDACTED]")]`.

    Attributes:
        mask_value: what the field reads as once its subject is shredded.
        subject_field: the field naming this field's subject, if not the `DataSubject` one.
    """

    mask_value: Any = None
    subject_field: str | None = None


class EncryptionStrategy(ABC):
    """A cipher: authenticated encryption of bytes under a key."""

    @abstractmethod
    def new_key(self) -> bytes:
        """A fresh random key."""

    @abstractmethod
    def encrypt(self, plaintext: bytes, key: bytes) -> bytes:
        """`plaintext` encrypted with a fresh nonce (the nonce travels in the result)."""

    @abstractmethod
    def decrypt(self, ciphertext: bytes, key: bytes) -> bytes:
        """The plaintext of `ciphertext`; raises if it was tampered with."""


@dataclass(frozen=True)
class StoredKey:
    """A subject's key; its bytes never show in a repr."""

    key_id: str
    subject_id: str
    key: bytes = field(repr=False)


class KeyStorage(ABC):
    """The port a backend implements to keep subjects' keys (tenant-scoped)."""

    @abstractmethod
    def current(self, subject_id: str, tenant_id: str | None) -> StoredKey | None:
        """The newest key of the subject, or None."""

    @abstractmethod
    def find(self, key_id: str, tenant_id: str | None) -> StoredKey | None:
        """The key with this id, or None once shredded."""

    @abstractmethod
    def add(self, key: StoredKey, tenant_id: str | None) -> None:
        """Store a new key (in the current transaction, where there is one)."""

    @abstractmethod
    def delete_subject(self, subject_id: str, tenant_id: str | None) -> None:
        """Delete every key of the subject: its encrypted data is unreadable from then on."""


class AsyncKeyStorage(ABC):
    """The port an asyncio backend implements to keep subjects' keys: `KeyStorage`'s methods
    and contracts, each a coroutine (the keys an encrypt or decrypt step needs are awaited
    ahead of it, then handed to it as data: see `KeyRing`)."""

    @abstractmethod
    async def current(self, subject_id: str, tenant_id: str | None) -> StoredKey | None:
        """The newest key of the subject, or None."""

    @abstractmethod
    async def find(self, key_id: str, tenant_id: str | None) -> StoredKey | None:
        """The key with this id, or None once shredded."""

    @abstractmethod
    async def add(self, key: StoredKey, tenant_id: str | None) -> None:
        """Store a new key (in the current transaction, where there is one)."""

    @abstractmethod
    async def delete_subject(self, subject_id: str, tenant_id: str | None) -> None:
        """Delete every key of the subject: its encrypted data is unreadable from then on."""


@dataclass(frozen=True)
class _FieldPlan:
    name: str
    spec: Encrypted
    subject_field: str


@cache
def _plan(cls: type[Event]) -> tuple[_FieldPlan, ...]:
    subject_fields = [
        name
        for name, info in cls.model_fields.items()
        if any(meta is DataSubject or isinstance(meta, DataSubject) for meta in info.metadata)
    ]
    plans = []
    for name, info in cls.model_fields.items():
        specs = [meta for meta in info.metadata if isinstance(meta, Encrypted)]
        if not specs:
            continue
        spec = specs[0]
        subject = spec.subject_field or (subject_fields[0] if len(subject_fields) == 1 else None)
        if subject is None or subject not in cls.model_fields:
            raise InvalidEvent(
                f"{cls.__qualname__}.{name} is Encrypted but the event has no data subject: mark "
                "exactly one field Annotated[str, DataSubject] or pass Encrypted(subject_field=...)"
            )
        plans.append(_FieldPlan(name, spec, subject))
    return tuple(plans)


class Encryption:
    """Encrypts and decrypts the marked fields of events, and shreds subjects.

    Args:
        strategy: the cipher (`AesGcmEncryption()`).
        key_storage: where subjects' keys live (the backend's own table or stream).
    """

    def __init__(self, strategy: EncryptionStrategy, key_storage: KeyStorage) -> None:
        self._strategy = strategy
        self._keys = key_storage

    def __repr__(self) -> str:
        return f"Encryption({type(self._strategy).__name__}, {type(self._keys).__name__})"

    @property
    def key_storage(self) -> KeyStorage:
        """Where this encryption's keys are read and stored."""
        return self._keys

    def with_key_storage(self, key_storage: KeyStorage) -> Encryption:
        """The same cipher over another key storage (a backend binds it to its session)."""
        return Encryption(self._strategy, key_storage)

    @staticmethod
    def applies_to(cls: type[Event]) -> bool:
        """Whether events of `cls` have encrypted fields."""
        return bool(_plan(cls))

    def _subject(self, data: dict[str, Any], plan: _FieldPlan, cls: type[Event]) -> str:
        subject = data.get(plan.subject_field)
        if not isinstance(subject, str) or not subject:
            raise InvalidEvent(
                f"{cls.__qualname__}.{plan.subject_field} must hold the data subject's id (a "
                "non-empty str) to encrypt the event"
            )
        return check_stream_label(subject, "data subject id")

    def encrypt(
        self, cls: type[Event], data: dict[str, Any], tenant_id: str | None
    ) -> dict[str, Any]:
        """`data` (the event's JSON form) with its encrypted fields replaced by tokens."""
        plans = _plan(cls)
        if not plans:
            return data
        encrypted = dict(data)
        for plan in plans:
            subject = self._subject(data, plan, cls)
            key = self._keys.current(subject, tenant_id)
            if key is None:
                key = StoredKey(secrets.token_hex(16), subject, self._strategy.new_key())
                self._keys.add(key, tenant_id)
            plaintext = json.dumps(data[plan.name]).encode()
            ciphertext = base64.b64encode(self._strategy.encrypt(plaintext, key.key)).decode()
            encrypted[plan.name] = f"{_TOKEN}{key.key_id}:{ciphertext}"
        return encrypted

    def decrypt(
        self, cls: type[Event], data: dict[str, Any], tenant_id: str | None
    ) -> dict[str, Any]:
        """`data` with tokens replaced by plaintext, or by the mask once shredded."""
        plans = _plan(cls)
        if not plans:
            return data
        decrypted = dict(data)
        for plan in plans:
            token = data.get(plan.name)
            if not isinstance(token, str) or not token.startswith(_TOKEN):
                continue  # stored before the field was encrypted
            key_id, _, ciphertext = token[len(_TOKEN) :].partition(":")
            key = self._keys.find(key_id, tenant_id)
            if key is None:
                decrypted[plan.name] = plan.spec.mask_value
                continue
            try:
                plaintext = self._strategy.decrypt(base64.b64decode(ciphertext), key.key)
            except Exception as exc:
                # The reason only: the cipher's message could echo what it was given.
                raise EventSerializationError(
                    f"{cls.__qualname__}.{plan.name} cannot be decrypted ({type(exc).__name__}): "
                    "the stored ciphertext or its key was altered"
                ) from None
            decrypted[plan.name] = json.loads(plaintext)
        return decrypted

    def shred(self, subject_id: str, *, tenant_id: str | None = None) -> None:
        """Make every encrypted field of this subject unreadable, for good. Idempotent."""
        self._keys.delete_subject(self.check_subject_id(subject_id), tenant_id)

    @staticmethod
    def check_subject_id(subject_id: object) -> str:
        """`subject_id`, or `InvalidInput` if it is not a data subject's id to shred."""
        if not isinstance(subject_id, str) or not subject_id:
            raise InvalidInput("shred() needs the data subject's id (a non-empty str)")
        return subject_id


class InMemoryKeyStorage(KeyStorage):
    """Keys in memory, for tests and the in-memory backend."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str | None, str], StoredKey] = {}
        self._current: dict[tuple[str | None, str], str] = {}

    def current(self, subject_id: str, tenant_id: str | None) -> StoredKey | None:
        key_id = self._current.get((tenant_id, subject_id))
        return None if key_id is None else self._keys.get((tenant_id, key_id))

    def find(self, key_id: str, tenant_id: str | None) -> StoredKey | None:
        return self._keys.get((tenant_id, key_id))

    def add(self, key: StoredKey, tenant_id: str | None) -> None:
        self._keys[(tenant_id, key.key_id)] = key
        self._current[(tenant_id, key.subject_id)] = key.key_id

    def delete_subject(self, subject_id: str, tenant_id: str | None) -> None:
        self._current.pop((tenant_id, subject_id), None)
        for key in [
            k for k, v in self._keys.items() if k[0] == tenant_id and v.subject_id == subject_id
        ]:
            del self._keys[key]


class KeyRing(InMemoryKeyStorage):
    """Keys fetched ahead of an encrypt or decrypt step, handed to it as data.

    The asyncio path awaits its `AsyncKeyStorage` for the keys a batch needs (`load`), then
    runs the same pure step as the sync path over an `Encryption` bound to the ring; the
    keys that step made for subjects without one are in `added`, for the caller to store.
    """

    def __init__(self) -> None:
        super().__init__()
        self.added: list[tuple[StoredKey, str | None]] = []

    def load(self, key: StoredKey, tenant_id: str | None) -> None:
        """Hold a fetched key (not one to store)."""
        super().add(key, tenant_id)

    def add(self, key: StoredKey, tenant_id: str | None) -> None:
        super().add(key, tenant_id)
        self.added.append((key, tenant_id))


def subjects_of(events: Iterable[object]) -> set[str]:
    """The data subjects whose keys encrypting `events` (events or wrapped events) needs;
    subjects the encrypt step would reject are left for it to reject."""
    subjects = set()
    for item in events:
        event = getattr(item, "event", item)
        if not isinstance(event, Event):
            continue
        for plan in _plan(type(event)):
            subject = getattr(event, plan.subject_field, None)
            if isinstance(subject, str) and subject:
                subjects.add(subject)
    return subjects


_KEY_ID = re.compile(re.escape(_TOKEN) + r"([^:\"\\]+):")


def key_ids_in(data: object) -> set[str]:
    """The key ids of the ciphertexts in an event's stored `data` (a dict or its JSON text)."""
    if isinstance(data, str):
        return set(_KEY_ID.findall(data)) if _TOKEN in data else set()
    if isinstance(data, dict):
        return {
            value[len(_TOKEN) :].partition(":")[0]
            for value in data.values()
            if isinstance(value, str) and value.startswith(_TOKEN)
        }
    return set()
