"""Crypto-shredding on SQL: after `shred`, no row holds the plaintext or the key."""

from __future__ import annotations

from typing import Annotated
from uuid import uuid4

from event_sourcery import Event, StreamId
from event_sourcery.encryption import AesGcmEncryption, DataSubject, Encrypted
from event_sourcery_sqlalchemy import SQLAlchemyBackend
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session


class Registered(Event):
    __event_name__ = "es_sqlalchemy_tests.Registered"
    user_id: Annotated[str, DataSubject]
    email: Annotated[str, Encrypted(mask_value="[REDACTED]")]


def _dump(session: Session, table: str) -> str:
    rows = session.execute(text(f"SELECT * FROM event_sourcery_{table}")).all()
    return repr(rows)


def test_shredded_subject_leaves_no_plaintext_and_no_key_in_any_row(engine: Engine) -> None:
    user, email = f"user-{uuid4().hex}", f"{uuid4().hex}@example.com"
    with Session(engine) as session:
        backend = SQLAlchemyBackend(session).with_encryption(strategy=AesGcmEncryption())
        stream = StreamId()
        backend.event_store.append(Registered(user_id=user, email=email), stream_id=stream)
        session.commit()
        keys_before = (
            session.execute(
                text("SELECT key FROM event_sourcery_keys WHERE subject_id = :s"), {"s": user}
            )
            .scalars()
            .all()
        )
        assert len(keys_before) == 1
        assert email not in _dump(session, "events")

        backend.encryption.shred(user)
        session.commit()

        assert user in _dump(session, "events")  # public fields stay readable
        assert email not in _dump(session, "events")
        key_dump = _dump(session, "keys")
        assert user not in key_dump
        assert repr(keys_before[0]) not in key_dump
        assert backend.event_store.load_stream(stream)[0].event.email == "[REDACTED]"
