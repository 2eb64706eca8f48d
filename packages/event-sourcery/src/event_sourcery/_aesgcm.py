"""AES-256-GCM from the `cryptography` package (the `encryption` extra)."""

from __future__ import annotations

import os
from typing import Any

from event_sourcery._encryption import EncryptionStrategy

_NONCE = 12  # bytes: GCM's standard nonce size
_KEY = 32  # bytes: AES-256


def _aesgcm() -> Any:
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError:
        raise ImportError(
            "AesGcmEncryption needs the `cryptography` package: "
            "pip install 'event-sourcery[encryption]'"
        ) from None
    return AESGCM


class AesGcmEncryption(EncryptionStrategy):
    """AES-256-GCM with a fresh random 96-bit nonce per value, stored before the ciphertext."""

    def __init__(self) -> None:
        self._cipher = _aesgcm()

    def new_key(self) -> bytes:
        key: bytes = self._cipher.generate_key(bit_length=_KEY * 8)
        return key

    def encrypt(self, plaintext: bytes, key: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        ciphertext: bytes = self._cipher(key).encrypt(nonce, plaintext, None)
        return nonce + ciphertext

    def decrypt(self, ciphertext: bytes, key: bytes) -> bytes:
        plaintext: bytes = self._cipher(key).decrypt(ciphertext[:_NONCE], ciphertext[_NONCE:], None)
        return plaintext
