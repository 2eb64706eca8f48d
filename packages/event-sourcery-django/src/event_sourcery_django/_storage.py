"""`StorageStrategy` over a Django database alias, with SQL of its own.

Statements run on the calling thread's connection of the alias, in its current transaction (the
event store wraps each write in `transaction.atomic`, see `_backend`); nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

from django.db import connections
from event_sourcery import StreamId
from event_sourcery.interfaces import ExpectedVersion, RawEvent
from event_sourcery.sql import SQLStorageStrategy, append_events, drive, settled_position

from event_sourcery_django._errors import DATABASE_ERRORS, ERRORS, translate
from event_sourcery_django._sql import OnAlias, flavour_of, runner


class DjangoStorageStrategy(OnAlias, SQLStorageStrategy):
    """Stores streams in the app's tables on database `using`, for one tenant.

    An append is one claim of the stream row plus one multi-row INSERT of its events; a load is
    one query. The append is `event_sourcery.sql`'s protocol, run on a Django cursor.
    """

    def __init__(self, using: str, tenant_id: str | None = None) -> None:
        super().__init__(using)
        self.tenant_id = tenant_id
        # Tenant ids are never empty, so '' stores the default (tenant-less) context.
        self._tenant = "" if tenant_id is None else tenant_id

    def scoped_for_tenant(self, tenant_id: str | None) -> Self:
        return type(self)(self.using, tenant_id)

    def insert_events(
        self, stream_id: StreamId, expected: ExpectedVersion, events: Sequence[RawEvent]
    ) -> list[int]:
        try:
            connection = connections[self.using]
            append = append_events(
                flavour_of(connection), ERRORS, self._tenant, stream_id, expected, events
            )
            with connection.cursor() as cursor:
                return drive(append, runner(cursor))
        except DATABASE_ERRORS as error:
            raise ERRORS.translate_append(error, stream_id, expected) from error

    def current_position(self) -> int:
        # The newest position in this transaction's view, once every other transaction that
        # was in flight has ended (`event_sourcery.sql.settled_position`).
        try:
            connection = connections[self.using]
            with connection.cursor() as cursor:
                return drive(settled_position(flavour_of(connection)), runner(cursor))
        except DATABASE_ERRORS as error:
            raise translate(error, "reading the current position") from error
