"""`StorageStrategy` over a SQLAlchemy session, with Core statements only.

The session is the user's: statements run in its current transaction, and nothing here ever
commits or rolls back. No ORM object is created, so a long-lived session does not fill up.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

from event_sourcery import StreamId
from event_sourcery.interfaces import (
    ExpectedVersion,
    RawEvent,
)
from event_sourcery.sql import SQLStorageStrategy, append_events, drive, settled_position
from sqlalchemy.orm import Session, scoped_session

from event_sourcery_sqlalchemy._driver import runner
from event_sourcery_sqlalchemy._errors import DATABASE_ERRORS, ERRORS, translate
from event_sourcery_sqlalchemy._models import SQLAlchemyModels
from event_sourcery_sqlalchemy._own import OwnWrites, resolve
from event_sourcery_sqlalchemy._sql import OnSession, flavour_of

AnySession = Session | scoped_session[Session]


class TenantScoped:
    """The tenant and the session's `OwnWrites` of a storage strategy, sync or async: built
    once here for both (`scoped_for_tenant` keeps the record of the session's writes)."""

    _session: Any
    _models: SQLAlchemyModels

    def __init__(
        self,
        session: Any,
        models: SQLAlchemyModels,
        tenant_id: str | None = None,
        *,
        own_writes: OwnWrites | None = None,
    ) -> None:
        super().__init__(session, models)  # type: ignore[call-arg]  # the driver base's
        #: What the session's transaction appended, for the subscriptions it opens.
        self._own_writes = OwnWrites() if own_writes is None else own_writes
        self.tenant_id = tenant_id
        # Tenant ids are never empty, so '' stores the default (tenant-less) context.
        self._tenant = "" if tenant_id is None else tenant_id

    def scoped_for_tenant(self, tenant_id: str | None) -> Self:
        return type(self)(self._session, self._models, tenant_id, own_writes=self._own_writes)


class SQLAlchemyStorageStrategy(TenantScoped, OnSession, SQLStorageStrategy):
    """Stores streams in the tables of `models`, through `session`, for one tenant.

    An append is one claim of the stream row plus one multi-row INSERT of its events (a single
    statement on PostgreSQL); a load is one query. The append is `event_sourcery.sql`'s
    protocol, run on the DB-API cursor of the session's connection (`_driver`).
    """

    def insert_events(
        self, stream_id: StreamId, expected: ExpectedVersion, events: Sequence[RawEvent]
    ) -> list[int]:
        try:
            connection = self._session.connection()
            flavour = flavour_of(self._models, connection.dialect)
            append = append_events(flavour, ERRORS, self._tenant, stream_id, expected, events)
            positions = drive(append, runner(connection))
            self._own_writes.note_positions(resolve(self._session), positions)
            return positions
        except DATABASE_ERRORS as error:
            raise ERRORS.translate_append(error, stream_id, expected) from error

    def current_position(self) -> int:
        # The newest position in this session's view, once every other transaction that was
        # in flight has ended (`event_sourcery.sql.settled_position`).
        try:
            connection = self._session.connection()
            flavour = flavour_of(self._models, connection.dialect)
            return drive(settled_position(flavour), runner(connection))
        except DATABASE_ERRORS as error:
            raise translate(error, "reading the current position") from error
