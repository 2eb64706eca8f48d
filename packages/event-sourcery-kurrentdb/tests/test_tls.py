"""The backend over TLS: the client trusts the emulator's self-signed certificate."""

from __future__ import annotations

from event_sourcery import StreamId
from event_sourcery.exceptions import StorageError
from event_sourcery_kurrentdb import KurrentDBBackend, RetryPolicy
from kurrentdb_emulator import run_emulator, self_signed_certificate
from kurrentdbclient import KurrentDBClient

from ._events import Noted


def test_appends_and_subscriptions_over_tls() -> None:
    certificate = self_signed_certificate()
    with run_emulator(tls=certificate) as emulator:
        client = KurrentDBClient(emulator.uri, root_certificates=certificate.certificate_chain)
        try:
            backend = KurrentDBBackend(client)
            stream = StreamId(category="tls")
            backend.event_store.append(Noted(text="secret"), stream_id=stream)
            assert [w.event for w in backend.event_store.load_stream(stream)] == [
                Noted(text="secret")
            ]
            (record,) = next(backend.subscriber.to_category("tls").build_batch(5, 1))
            assert record.stream_id == stream
        finally:
            client.close()


def test_an_untrusted_certificate_is_a_storage_error() -> None:
    with run_emulator(tls=self_signed_certificate()) as emulator:
        stranger = self_signed_certificate().certificate_chain
        client = KurrentDBClient(emulator.uri, root_certificates=stranger)
        try:
            backend = KurrentDBBackend(client, retry=RetryPolicy(attempts=1))
            try:
                backend.event_store.load_stream(StreamId())
            except StorageError:
                pass
            else:
                raise AssertionError("a server with an untrusted certificate was read from")
        finally:
            client.close()
