"""Crypto-shredding: encrypted at rest, readable until shredded, masked for good after."""

from __future__ import annotations

from typing import Annotated
from uuid import uuid4

import pytest
from event_sourcery import Backend, Event, StreamId
from event_sourcery.encryption import AesGcmEncryption, DataSubject, Encrypted, StoredKey
from event_sourcery.exceptions import InvalidEvent, InvalidInput

from event_sourcery_testing.conformance._hooks import Hooks
from event_sourcery_testing.conformance._support import first_batch


class UserRegistered(Event):
    __event_name__ = "es_conformance.UserRegistered"
    user_id: Annotated[str, DataSubject]
    email: Annotated[str, Encrypted(mask_value="[REDACTED]")]
    plan: str


class AddressChanged(Event):
    __event_name__ = "es_conformance.AddressChanged"
    user_id: Annotated[str, DataSubject]
    street: Annotated[str | None, Encrypted()]
    city: Annotated[str, Encrypted(mask_value="?")]


class Orphan(Event):
    __event_name__ = "es_conformance.Orphan"
    secret: Annotated[str, Encrypted(mask_value="")]


_NO_CIPHER = (
    "the encryption contract needs `cryptography`: pip install 'event-sourcery-testing[encryption]'"
)


def _subject() -> str:
    return f"user-{uuid4().hex}"


class EncryptionContract(Hooks):
    """Field encryption and shredding behave alike on every backend."""

    def _encrypting(self, backend: Backend) -> Backend:
        try:
            strategy = AesGcmEncryption()
        except ImportError:
            # The cipher is an extra so that a bare install of the fakes pulls no `cryptography`;
            # a skip that names the install command, not a failure of the backend under test.
            pytest.skip(_NO_CIPHER)
        return backend.with_encryption(strategy=strategy)

    def test_encrypted_fields_round_trip_and_are_not_stored_in_clear(
        self, backend: Backend
    ) -> None:
        secure, user, stream = self._encrypting(backend), _subject(), StreamId()
        email = f"{user}@example.com"
        secure.event_store.append(
            UserRegistered(user_id=user, email=email, plan="pro"), stream_id=stream
        )
        (loaded,) = secure.event_store.load_stream(stream)
        assert loaded.event == UserRegistered(user_id=user, email=email, plan="pro")
        (raw,) = secure.event_store.load_stream_raw(stream)
        assert email not in repr(raw)
        assert (raw.data["user_id"], raw.data["plan"]) == (user, "pro")

    def test_shredded_subject_reads_as_mask_for_good(self, backend: Backend) -> None:
        secure, user, other = self._encrypting(backend), _subject(), _subject()
        stream = StreamId()
        secure.event_store.append(
            UserRegistered(user_id=user, email="a@example.com", plan="pro"),
            AddressChanged(user_id=user, street="Main 1", city="Kraków"),
            UserRegistered(user_id=other, email="b@example.com", plan="free"),
            stream_id=stream,
        )
        secure.encryption.shred(user)
        secure.encryption.shred(user)  # idempotent
        self.commit(backend)
        events = [w.event for w in secure.event_store.load_stream(stream)]
        assert events == [
            UserRegistered(user_id=user, email="[REDACTED]", plan="pro"),
            AddressChanged(user_id=user, street=None, city="?"),
            UserRegistered(user_id=other, email="b@example.com", plan="free"),
        ]

    def test_subject_gets_a_new_key_after_shredding(self, backend: Backend) -> None:
        secure, user = self._encrypting(backend), _subject()
        first, second = StreamId(), StreamId()
        secure.event_store.append(
            UserRegistered(user_id=user, email="old@x", plan="p"), stream_id=first
        )
        secure.encryption.shred(user)
        secure.event_store.append(
            UserRegistered(user_id=user, email="new@x", plan="p"), stream_id=second
        )
        assert secure.event_store.load_stream(first)[0].event.email == "[REDACTED]"
        assert secure.event_store.load_stream(second)[0].event.email == "new@x"

    def test_subscriptions_decrypt_too(self, backend: Backend) -> None:
        secure, user = self._encrypting(backend), _subject()
        category = f"enc-{uuid4().hex}"
        secure.event_store.append(
            UserRegistered(user_id=user, email="s@x", plan="p"),
            stream_id=StreamId(category=category),
        )
        self.commit(backend)
        batch = first_batch(secure.subscriber.to_category(category).build_batch(5, 1))
        assert [r.wrapped_event.event.email for r in batch] == ["s@x"]

    def test_keys_are_per_tenant(self, backend: Backend) -> None:
        user = _subject()
        default = self._encrypting(backend)
        tenant = self._encrypting(backend.in_tenant_mode(f"t-{uuid4().hex}"))
        mine, theirs = StreamId(), StreamId()
        default.event_store.append(
            UserRegistered(user_id=user, email="d@x", plan="p"), stream_id=mine
        )
        tenant.event_store.append(
            UserRegistered(user_id=user, email="t@x", plan="p"), stream_id=theirs
        )
        tenant.encryption.shred(user)
        assert default.event_store.load_stream(mine)[0].event.email == "d@x"
        assert tenant.event_store.load_stream(theirs)[0].event.email == "[REDACTED]"

    def test_encrypted_event_without_subject_is_rejected(self, backend: Backend) -> None:
        secure, stream = self._encrypting(backend), StreamId()
        with pytest.raises(InvalidEvent, match="data subject"):
            secure.event_store.append(Orphan(secret="s3cret"), stream_id=stream)
        assert secure.event_store.load_stream(stream) == []

    def test_keys_and_plaintext_stay_out_of_reprs_and_errors(self, backend: Backend) -> None:
        key = StoredKey("kid", "subject", b"\x01" * 32)
        assert "\\x01" not in repr(key)
        with pytest.raises(InvalidInput):
            self._encrypting(backend).encryption.shred("")
        with pytest.raises(InvalidInput):
            backend.encryption  # noqa: B018 - not configured
