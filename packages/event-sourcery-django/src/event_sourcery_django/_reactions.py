"""The outbox and projection checkpoints, in the caller's transaction on database `using`.

Both need the caller's transaction: a claim of outbox entries and a checkpoint are locked until
it ends, and a projection's checkpoint must commit with its read model. Run them inside
``transaction.atomic(using=...)`` (the worker command does). What they decide is the SQL
core's (`event_sourcery.sql`); here it runs on the alias's connection.
"""

from __future__ import annotations

from django.db import connections
from event_sourcery.exceptions import StorageError
from event_sourcery.interfaces import OutboxEntry
from event_sourcery.sql import SQLCheckpointStrategy, SQLOutboxStrategy

from event_sourcery_django._errors import DATABASE_ERRORS, translate
from event_sourcery_django._sql import OnAlias


def _in_transaction(using: str, what: str, action: str) -> None:
    connection = connections[using]
    try:
        outside = connection.get_autocommit() and not connection.in_atomic_block
    except DATABASE_ERRORS as error:
        raise translate(error, action) from error
    if outside:
        raise StorageError(
            f"{what} must run in a transaction: wrap it in "
            f"transaction.atomic(using={connection.alias!r}), so that its locks last and its "
            "writes commit together."
        )


class DjangoOutboxStrategy(OnAlias, SQLOutboxStrategy):
    """Outbox entries in the app's outbox table (system-wide: every tenant)."""

    def claim(self, limit: int, max_attempts: int) -> list[OutboxEntry]:
        _in_transaction(self.using, "Publishing the outbox", "claiming outbox entries")
        return super().claim(limit, max_attempts)


class DjangoCheckpointStrategy(OnAlias, SQLCheckpointStrategy):
    """Projection checkpoints in the app's checkpoint table."""

    def load(self, name: str) -> int:
        _in_transaction(self.using, "A projection", f"loading checkpoint {name!r}")
        return super().load(name)
