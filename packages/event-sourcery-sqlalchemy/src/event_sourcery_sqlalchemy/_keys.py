"""Encryption keys of data subjects, in the keys table, in the session's transaction."""

from __future__ import annotations

from event_sourcery.sql import SQLKeyStorage

from event_sourcery_sqlalchemy._sql import OnSession


class SQLAlchemyKeyStorage(OnSession, SQLKeyStorage):
    """The keys table of `models`; keys are written and shredded in `session`'s transaction."""
