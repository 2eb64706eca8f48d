"""Crypto-shredding keys in the app's key table, in the caller's transaction."""

from __future__ import annotations

from event_sourcery.sql import SQLKeyStorage

from event_sourcery_django._sql import OnAlias


class DjangoKeyStorage(OnAlias, SQLKeyStorage):
    """Subjects' keys on database alias `using`; the newest key of a subject is its current."""
