"""Crypto-shredding: encrypted event fields, per-subject keys, and `shred`."""

from event_sourcery._aesgcm import AesGcmEncryption
from event_sourcery._async_encryption import AwaitedKeys
from event_sourcery._configured import TenantEncryption
from event_sourcery._encryption import (
    AsyncKeyStorage,
    DataSubject,
    Encrypted,
    Encryption,
    EncryptionStrategy,
    InMemoryKeyStorage,
    KeyRing,
    KeyStorage,
    StoredKey,
)

__all__ = [
    "AesGcmEncryption",
    "AsyncKeyStorage",
    "AwaitedKeys",
    "DataSubject",
    "Encrypted",
    "Encryption",
    "EncryptionStrategy",
    "InMemoryKeyStorage",
    "KeyRing",
    "KeyStorage",
    "StoredKey",
    "TenantEncryption",
]
