"""Stream names, unique per (tenant, category): one registry stream per name.

KurrentDB has no unique index, but it has expected revisions: binding a name is an append that
expects the registry stream *not to exist*, so of two writers binding one name at once exactly
one succeeds. Deleting the named stream soft-deletes the registry stream, which frees the name
(a soft-deleted stream accepts an append expecting "no stream" again).

The binding is made before the stream's first named append, because that append cannot be
undone; if the append then fails, the binding is released again. A process that dies between
the two leaves the name bound to a uuid without events: `delete_stream` of that uuid (with the
name) frees it.
"""

from __future__ import annotations

import json
from uuid import UUID

from event_sourcery.exceptions import AnotherStreamWithThisNameButOtherIdExists, StorageError
from kurrentdbclient import RecordedEvent, StreamState

from event_sourcery_kurrentdb import _steps as steps
from event_sourcery_kurrentdb._codec import NAME_BOUND, internal_event
from event_sourcery_kurrentdb._steps import Steps
from event_sourcery_kurrentdb._streams import name_stream

#: Tries to bind a name whose registry stream is being deleted by someone else at the time.
_TRIES = 5


def _bound_uuid(record: RecordedEvent) -> UUID:
    return UUID(json.loads(record.data)["uuid"])


class NameRegistry:
    """Binds stream names to uuids, in the backend's registry streams (as steps, `_steps`)."""

    __slots__ = ()

    def bind(
        self, tenant_id: str | None, category: str | None, name: str, uuid: UUID
    ) -> Steps[bool]:
        """Bind `name` to `uuid`; True if this call made the binding, False if it existed.

        Raises `AnotherStreamWithThisNameButOtherIdExists` if the name is bound to another uuid.
        """
        stream = name_stream(tenant_id, category, name)
        record = internal_event(
            NAME_BOUND,
            {"uuid": str(uuid), "tenant_id": tenant_id, "category": category, "name": name},
        )
        for _ in range(_TRIES):
            if (yield from steps.append(stream, StreamState.NO_STREAM, [record])) is not None:
                return True
            existing = yield from steps.last(stream)
            if not existing:
                continue  # deleted between our append and our read: try again
            bound = _bound_uuid(existing[0])
            if bound == uuid:
                return False
            raise AnotherStreamWithThisNameButOtherIdExists(name, category, bound, uuid)
        raise StorageError(f"could not bind stream name {name!r}: its binding keeps changing")

    def release(
        self, tenant_id: str | None, category: str | None, name: str, uuid: UUID
    ) -> Steps[None]:
        """Free `name` if it is bound to `uuid` (and only then)."""
        stream = name_stream(tenant_id, category, name)
        existing = yield from steps.last(stream)
        if existing and _bound_uuid(existing[0]) == uuid:
            # Expecting the binding's revision: a rebinding made meanwhile is not deleted.
            yield from steps.delete(stream, existing[0].stream_position)
