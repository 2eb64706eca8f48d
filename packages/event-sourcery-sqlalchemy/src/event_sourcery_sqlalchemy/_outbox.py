"""The outbox and projection checkpoints, in the session's transaction.

What they decide is the SQL core's (`event_sourcery.sql`: claims with SKIP LOCKED, dead
letters, checkpoint rows locked for the projection's transaction); here it runs on the session.
"""

from __future__ import annotations

from event_sourcery.sql import SQLCheckpointStrategy, SQLOutboxStrategy

from event_sourcery_sqlalchemy._own import note_identity, resolve
from event_sourcery_sqlalchemy._sql import OnSession


class SQLAlchemyOutboxStrategy(OnSession, SQLOutboxStrategy):
    """The outbox table of `models`, in the transaction of `session`."""


class SQLAlchemyCheckpointStrategy(OnSession, SQLCheckpointStrategy):
    """The checkpoints table of `models`, in the transaction of `session`."""

    def _note_identity(self, identity: int) -> None:
        # Subscriptions opened in this transaction leave it out of their markers (`_own`).
        note_identity(resolve(self._session), identity)
