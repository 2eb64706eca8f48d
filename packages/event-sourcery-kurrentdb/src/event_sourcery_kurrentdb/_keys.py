"""Encryption keys in KurrentDB streams: one stream per key, one per data subject.

```
es$key-{sha256 of tenant, key id}          the key (one event)
es$subject-{sha256 of tenant, subject}     the ids of the subject's keys, newest last
```

`delete_subject` soft-deletes both: every read path of the backend stops seeing the key at once.
KurrentDB removes the bytes of deleted events from disk only at its next scavenge; until then an
operator reading the raw log could still find them. Schedule scavenges, or keep keys outside the
event store (`with_encryption(key_storage=...)`), if shredding must reach the disk at once.
"""

from __future__ import annotations

import base64
import hashlib
import json

from event_sourcery.encryption import KeyStorage, StoredKey
from kurrentdbclient import StreamState

from event_sourcery_kurrentdb import _steps as steps
from event_sourcery_kurrentdb._client import Connection
from event_sourcery_kurrentdb._codec import internal_event
from event_sourcery_kurrentdb._errors import user_operation
from event_sourcery_kurrentdb._steps import Steps
from event_sourcery_kurrentdb._streams import INTERNAL_PREFIX

KEY = "$es-key"
SUBJECT_KEY = "$es-subject-key"


def _stream(kind: str, tenant_id: str | None, identifier: str) -> str:
    digest = hashlib.sha256(json.dumps([tenant_id, identifier]).encode()).hexdigest()
    return f"{INTERNAL_PREFIX}{kind}-{digest}"


class KeySteps:
    """What the key storages do, as steps (`_steps`); each method with the contract of its
    `KeyStorage` namesake."""

    __slots__ = ()

    @user_operation(lambda self, *_, **__: "reading a data subject's encryption key")
    def current(self, subject_id: str, tenant_id: str | None) -> Steps[StoredKey | None]:
        latest = yield from steps.last(_stream("subject", tenant_id, subject_id))
        if not latest:
            return None
        return (yield from self.find(json.loads(latest[0].data)["key_id"], tenant_id))

    @user_operation(lambda self, *_, **__: "reading an encryption key")
    def find(self, key_id: str, tenant_id: str | None) -> Steps[StoredKey | None]:
        latest = yield from steps.last(_stream("key", tenant_id, key_id))
        if not latest:
            return None
        data = json.loads(latest[0].data)
        return StoredKey(data["key_id"], data["subject_id"], base64.b64decode(data["key"]))

    @user_operation(lambda self, *_, **__: "storing an encryption key")
    def add(self, key: StoredKey, tenant_id: str | None) -> Steps[None]:
        # The key first: a subject never points at a key that is not stored.
        record = {
            "key_id": key.key_id,
            "subject_id": key.subject_id,
            "key": base64.b64encode(key.key).decode(),
        }
        yield from steps.append(
            _stream("key", tenant_id, key.key_id),
            StreamState.NO_STREAM,
            [internal_event(KEY, record)],
        )
        yield from steps.append(
            _stream("subject", tenant_id, key.subject_id),
            StreamState.ANY,
            [internal_event(SUBJECT_KEY, {"key_id": key.key_id})],
        )

    @user_operation(lambda self, *_, **__: "shredding a data subject")
    def delete_subject(self, subject_id: str, tenant_id: str | None) -> Steps[None]:
        subject = _stream("subject", tenant_id, subject_id)
        for record in (yield from steps.read(subject)):
            key_id = json.loads(record.data)["key_id"]
            yield from steps.delete(_stream("key", tenant_id, key_id), StreamState.ANY)
        yield from steps.delete(subject, StreamState.ANY)


class KurrentDBKeyStorage(KeyStorage):
    """`KeyStorage` in the backend's own `es$key-...` and `es$subject-...` streams."""

    _steps = KeySteps()

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def current(self, subject_id: str, tenant_id: str | None) -> StoredKey | None:
        return self._connection.run(self._steps.current(subject_id, tenant_id))

    def find(self, key_id: str, tenant_id: str | None) -> StoredKey | None:
        return self._connection.run(self._steps.find(key_id, tenant_id))

    def add(self, key: StoredKey, tenant_id: str | None) -> None:
        self._connection.run(self._steps.add(key, tenant_id))

    def delete_subject(self, subject_id: str, tenant_id: str | None) -> None:
        self._connection.run(self._steps.delete_subject(subject_id, tenant_id))
