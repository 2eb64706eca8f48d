"""`StorageStrategy` over a SQLAlchemy session, with Core statements only.

The session is the user's: statements run in its current transaction, and nothing here ever
commits or rolls back. No ORM object is created, so a long-lived session does not fill up.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

from event_sourcery import StreamId
from event_sourcery.interfaces import (
    ExpectedVersion,
    RawEvent,
)
from event_sourcery.sql import SQLStorageStrategy
from sqlalchemy import Connection
from sqlalchemy.orm import Session, scoped_session

from event_sourcery_sqlalchemy._appending import Append
from event_sourcery_sqlalchemy._errors import DATABASE_ERRORS, ERRORS, translate
from event_sourcery_sqlalchemy._inflight import InFlight, in_flight_for
from event_sourcery_sqlalchemy._models import SQLAlchemyModels
from event_sourcery_sqlalchemy._own import note_positions, resolve
from event_sourcery_sqlalchemy._sql import OnSession
from event_sourcery_sqlalchemy._statements import Statements, statements_for

AnySession = Session | scoped_session[Session]


class SQLAlchemyStorageStrategy(OnSession, SQLStorageStrategy):
    """Stores streams in the tables of `models`, through `session`, for one tenant.

    An append is one claim of the stream row plus one multi-row INSERT of its events (a single
    statement on PostgreSQL); a load is one query. See `_appending` for the claim.
    """

    def __init__(
        self, session: AnySession, models: SQLAlchemyModels, tenant_id: str | None = None
    ) -> None:
        super().__init__(session, models)
        self.tenant_id = tenant_id
        # Tenant ids are never empty, so '' stores the default (tenant-less) context.
        self._tenant = "" if tenant_id is None else tenant_id

    def scoped_for_tenant(self, tenant_id: str | None) -> Self:
        return type(self)(self._session, self._models, tenant_id)

    def _open(self) -> tuple[Connection, Statements]:
        connection = self._session.connection()
        return connection, statements_for(self._models, connection.dialect)

    def insert_events(
        self, stream_id: StreamId, expected: ExpectedVersion, events: Sequence[RawEvent]
    ) -> list[int]:
        try:
            connection, sql = self._open()
            positions = Append(connection, sql, self._tenant, stream_id, expected, events).run()
            note_positions(resolve(self._session), positions)
            return positions
        except DATABASE_ERRORS as error:
            raise ERRORS.translate_append(error, stream_id, expected) from error

    def current_position(self) -> int:
        # The newest position in this session's view, once every other transaction that was
        # in flight has ended: see `_inflight` for how each database tells them.
        try:
            connection, _ = self._open()
            key = ("in_flight", connection.dialect.name)
            in_flight: InFlight | None = self._models.cache.get(key)
            if in_flight is None:
                quote = connection.dialect.identifier_preparer.quote
                in_flight = in_flight_for(connection.dialect.name, self._models.events.name, quote)
                self._models.cache[key] = in_flight
            return in_flight.settled_position(connection)
        except DATABASE_ERRORS as error:
            raise translate(error, "reading the current position") from error
