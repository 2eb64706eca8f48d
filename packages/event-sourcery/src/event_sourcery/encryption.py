"""Crypto-shredding: encrypted event fields, per-subject keys, and `shred`."""

from event_sourcery._aesgcm import AesGcmEncryption
from event_sourcery._encryption import (
    DataSubject,
    Encrypted,
    Encryption,
    EncryptionStrategy,
    InMemoryKeyStorage,
    KeyStorage,
    StoredKey,
)

__all__ = [
    "AesGcmEncryption",
    "DataSubject",
    "Encrypted",
    "Encryption",
    "EncryptionStrategy",
    "InMemoryKeyStorage",
    "KeyStorage",
    "StoredKey",
]
