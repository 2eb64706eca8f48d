"""The outbox and projection checkpoints, in the session's transaction.

What they decide is the SQL core's (`event_sourcery.sql`: claims with SKIP LOCKED, dead
letters, checkpoint rows locked for the projection's transaction); here it runs on the session.
"""

from __future__ import annotations

from event_sourcery.sql import SQLCheckpointStrategy, SQLOutboxStrategy
from sqlalchemy.orm import Session, scoped_session

from event_sourcery_sqlalchemy._models import SQLAlchemyModels
from event_sourcery_sqlalchemy._own import OwnWrites, resolve
from event_sourcery_sqlalchemy._sql import OnSession


class SQLAlchemyOutboxStrategy(OnSession, SQLOutboxStrategy):
    """The outbox table of `models`, in the transaction of `session`."""


class SQLAlchemyCheckpointStrategy(OnSession, SQLCheckpointStrategy):
    """The checkpoints table of `models`, in the transaction of `session`.

    A load notes the server id of the session's connection in `own_writes`, the backend's
    record for the subscriptions its sessions open: a projection loads (and locks) its
    checkpoint, then reads the log, which must not wait for the projection's own transaction.
    """

    def __init__(
        self,
        session: Session | scoped_session[Session],
        models: SQLAlchemyModels,
        own_writes: OwnWrites,
    ):
        super().__init__(session, models)
        self._own_writes = own_writes

    def _note_identity(self, identity: int) -> None:
        self._own_writes.note_session(resolve(self._session), identity)
