"""The SQL protocol's view of the store's tables: the flavour of `models` on a dialect."""

from __future__ import annotations

from event_sourcery.sql import Flavour, Tables, flavour_for
from sqlalchemy import JSON, Dialect

from event_sourcery_sqlalchemy._models import SQLAlchemyModels
from event_sourcery_sqlalchemy._statements import notify_channel


def flavour_of(models: SQLAlchemyModels, dialect: Dialect) -> Flavour:
    """The `Flavour` of `dialect`'s database for the tables of `models`, built once."""
    key = ("flavour", dialect.name)
    flavour: Flavour | None = models.cache.get(key)
    if flavour is None:
        prepare = dialect.identifier_preparer
        events = models.events
        tables = Tables(
            streams=prepare.format_table(models.streams),
            events=prepare.format_table(events),
            snapshots=prepare.format_table(models.snapshots),
            # As `_models` declares them: the database's own uuid type where SQLAlchemy has
            # one for the dialect and the model asks for it (PostgreSQL), CHAR(32) elsewhere.
            native_uuid=bool(getattr(events.c.uuid.type.dialect_impl(dialect), "native_uuid", 0))
            and dialect.supports_native_uuid,
            # JSON, except where the model keeps the JSON text (LONGTEXT on MariaDB).
            json_payload=isinstance(events.c.data.type.dialect_impl(dialect), JSON),
            channel=notify_channel(models),
        )
        flavour = models.cache[key] = flavour_for(dialect.name, tables)
    return flavour
