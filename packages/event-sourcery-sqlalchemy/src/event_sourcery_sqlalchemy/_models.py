"""The tables of the event store, defined on the user's declarative base.

Only `Table`s are defined, no mapped classes: the store reads and writes with Core statements,
and tables are all that `create_all` and alembic's autogenerate need.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Final

from event_sourcery.exceptions import InvalidInput
from event_sourcery.interfaces import (
    MAX_IDENTIFIER_LENGTH,
)
from event_sourcery.sql import (
    EVENT_ID_INDEX,
)
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.schema import conv

#: Prefix of the table names made by `configure_models` when no other is given.
DEFAULT_TABLE_PREFIX: Final = "event_sourcery_"

# The longest name derived from a prefix is "<prefix>events_stream_version_uq"; PostgreSQL cuts
# identifiers at 63 characters and MariaDB rejects more than 64, so the prefix must leave room.
_LONGEST_SUFFIX = "events_stream_version_uq"
_MAX_PREFIX_LENGTH: Final = 63 - len(_LONGEST_SUFFIX)
_PREFIX_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# Key of our models in `MetaData.info`: it makes `configure_models` idempotent per base.
_INFO_KEY: Final = "event_sourcery_sqlalchemy.models"

# Autoincrement ids: BIGINT everywhere but SQLite, where only "INTEGER PRIMARY KEY" is an alias
# of the rowid that AUTOINCREMENT can keep from ever being reused.
_ID = BigInteger().with_variant(Integer(), "sqlite")
# tenant_id, category, name and the event type compare exactly: MariaDB's default collation
# would make "Acc" and "acc" one stream (the tables get a binary collation below).
_LABEL = String(MAX_IDENTIFIER_LENGTH)
# CHAR(32) outside PostgreSQL on every SQLAlchemy version: 2.1 would otherwise switch MariaDB
# to its native UUID type, and rows written by 2.0 would no longer match.
_UUID = Uuid(native_uuid=False).with_variant(postgresql.UUID(as_uuid=True), "postgresql")
# Event data must come back exactly as given, whatever strings it holds. So: JSON, not JSONB,
# on PostgreSQL (JSONB refuses "\u0000" and lone surrogates; alembic also renders a JSONB
# variant into a migration that does not import when it autogenerates against another
# database), and LONGTEXT on MariaDB, whose JSON is LONGTEXT plus a json_valid() check that
# refuses lone surrogates (the store writes the JSON text itself there). Both are also the
# cheaper to write and to read back whole, which is all an event store does with them.
_JSON = JSON().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
# MariaDB's DATETIME drops microseconds unless told to keep them; it stores no zone, so the
# store always writes UTC and reads naive values back as UTC.
_TIMESTAMP = DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

# MariaDB's collation for every text column. Binary, so case and accents count, and NO PAD:
# utf8mb4_bin is PAD SPACE, which makes "Deposited " equal "Deposited" in comparisons and in
# unique indexes (a type filter let the padded name through). NO PAD compares exactly, as
# PostgreSQL and SQLite do. Tables made by earlier versions need the ALTER in the changelog.
_MARIADB_COLLATION: Final = "utf8mb4_nopad_bin"

_TABLE_OPTIONS: Final[dict[str, Any]] = {
    f"{dialect}_{option}": value
    for dialect in ("mysql", "mariadb")
    for option, value in (
        ("engine", "InnoDB"),
        ("charset", "utf8mb4"),
        ("collate", _MARIADB_COLLATION),
    )
}


@dataclass(frozen=True, eq=False)
class SQLAlchemyModels:
    """The tables of one event store, as made by `configure_models`.

    Pass it to `SQLAlchemyBackend(session, models=...)` when the tables have a non-default
    prefix.

    Attributes:
        streams: one row per stream: (tenant_id, category, uuid) identify it, with '' for the
            default tenant and for no category; its stored name; its version, NULL for a
            versionless stream.
        events: one row per event; its `id` is the event's global position. `tenant_id` is
            a copy of the stream's, for reading the global log by tenant.
        snapshots: at most one row per stream, the latest snapshot.
        outbox: events waiting to be published, written in the append's transaction. Each
            row is a full copy of its event (stream identity and payload), so it is still
            published if the stream is deleted first; `attempts` and `last_error` count
            failed publications (dead letters have `attempts` >= the outbox's maximum).
        checkpoints: one row per projection: its name and the position it has applied up to.
        keys: encryption keys of data subjects (crypto-shredding), per tenant; shredding a
            subject deletes its rows.
    """

    streams: Table
    events: Table
    snapshots: Table
    outbox: Table
    checkpoints: Table
    keys: Table
    # The flavour of each dialect for these tables, built on first use (see `_sql.flavour_of`).
    cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def tables(self) -> tuple[Table, ...]:
        """The tables, in the order `create_all` makes them."""
        return (
            self.streams,
            self.events,
            self.snapshots,
            self.outbox,
            self.checkpoints,
            self.keys,
        )


def _metadata_of(base: object) -> MetaData:
    metadata = base if isinstance(base, MetaData) else getattr(base, "metadata", None)
    if not isinstance(metadata, MetaData):
        raise TypeError(
            "configure_models() needs a declarative base (a DeclarativeBase subclass or the "
            f"result of declarative_base()) or a MetaData, got {base!r}"
        )
    return metadata


def _check_prefix(prefix: object) -> str:
    if not isinstance(prefix, str) or not _PREFIX_PATTERN.match(prefix):
        raise InvalidInput(
            f"table_prefix must be letters, digits and underscores (not starting with a "
            f"digit), got {prefix!r}"
        )
    if len(prefix) > _MAX_PREFIX_LENGTH:
        raise InvalidInput(
            f"table_prefix {prefix!r} is {len(prefix)} characters long; at most "
            f"{_MAX_PREFIX_LENGTH} leave room for the names of its constraints"
        )
    return prefix


def _name(prefix: str, suffix: str) -> conv:
    """The name of a constraint or index: final, whatever naming convention the user's metadata
    has, so the names alembic sees in the database and in the models always agree."""
    return conv(f"{prefix}{suffix}")


def _streams(metadata: MetaData, prefix: str) -> Table:
    """One row per stream (see `SQLAlchemyModels.streams`)."""
    return Table(
        f"{prefix}streams",
        metadata,
        Column("id", _ID, autoincrement=True),
        Column("tenant_id", _LABEL, nullable=False),
        Column("category", _LABEL, nullable=False),
        Column("uuid", _UUID, nullable=False),
        Column("name", _LABEL, nullable=True),
        Column("version", BigInteger, nullable=True),
        PrimaryKeyConstraint("id", name=_name(prefix, "streams_pk")),
        # The distinguishing column first: with tenant and category leading, a planner with
        # stale statistics (or a generic plan) could look a stream up by uuid through the name
        # index, scanning every stream of the category; appends then slowed down as streams
        # were added. Now neither index can serve the other's lookup.
        UniqueConstraint("uuid", "tenant_id", "category", name=_name(prefix, "streams_uuid_uq")),
        UniqueConstraint("name", "tenant_id", "category", name=_name(prefix, "streams_name_uq")),
        sqlite_autoincrement=True,
        **_TABLE_OPTIONS,
    )


def _events(metadata: MetaData, prefix: str, streams: Table) -> Table:
    """One row per event, its id the global position (see `SQLAlchemyModels.events`)."""
    return Table(
        f"{prefix}events",
        metadata,
        Column("id", _ID, autoincrement=True),
        Column("stream_id", BigInteger, nullable=False),
        Column("version", BigInteger, nullable=True),
        Column("uuid", _UUID, nullable=False),
        Column("type", String(MAX_IDENTIFIER_LENGTH), nullable=False),
        Column("schema_version", Integer, nullable=False),
        Column("data", _JSON, nullable=False),
        Column("context", _JSON, nullable=False),
        Column("created_at", _TIMESTAMP, nullable=False),
        Column("tenant_id", _LABEL, nullable=False),
        PrimaryKeyConstraint("id", name=_name(prefix, "events_pk")),
        ForeignKeyConstraint(["stream_id"], [streams.c.id], name=_name(prefix, "events_stream_fk")),
        # Also the index a stream is read through, in version order.
        UniqueConstraint("stream_id", "version", name=_name(prefix, "events_stream_version_uq")),
        # Event ids are unique per tenant: the index refuses a taken id as part of the
        # append's INSERT, with no query of its own (see `violates_event_id_index`).
        UniqueConstraint("uuid", "tenant_id", name=_name(prefix, EVENT_ID_INDEX)),
        # Positions must never be reused, not even those of the newest events after a delete.
        sqlite_autoincrement=True,
        **_TABLE_OPTIONS,
    )


def _snapshots(metadata: MetaData, prefix: str, streams: Table) -> Table:
    """At most one row per stream (see `SQLAlchemyModels.snapshots`)."""
    return Table(
        f"{prefix}snapshots",
        metadata,
        Column("stream_id", BigInteger, autoincrement=False),
        Column("version", BigInteger, nullable=False),
        Column("uuid", _UUID, nullable=False),
        Column("type", String(MAX_IDENTIFIER_LENGTH), nullable=False),
        Column("schema_version", Integer, nullable=False),
        Column("data", _JSON, nullable=False),
        Column("context", _JSON, nullable=False),
        Column("created_at", _TIMESTAMP, nullable=False),
        PrimaryKeyConstraint("stream_id", name=_name(prefix, "snapshots_pk")),
        ForeignKeyConstraint(
            ["stream_id"], [streams.c.id], name=_name(prefix, "snapshots_stream_fk")
        ),
        **_TABLE_OPTIONS,
    )


def _outbox(metadata: MetaData, prefix: str) -> Table:
    """Events waiting to be published (see `SQLAlchemyModels.outbox`)."""
    return Table(
        f"{prefix}outbox",
        metadata,
        Column("id", _ID, autoincrement=True),
        Column("position", BigInteger, nullable=False),
        Column("tenant_id", _LABEL, nullable=False),
        Column("category", _LABEL, nullable=False),
        Column("stream_uuid", _UUID, nullable=False),
        Column("stream_name", _LABEL, nullable=True),
        Column("version", BigInteger, nullable=True),
        Column("uuid", _UUID, nullable=False),
        Column("type", String(MAX_IDENTIFIER_LENGTH), nullable=False),
        Column("schema_version", Integer, nullable=False),
        Column("data", _JSON, nullable=False),
        Column("context", _JSON, nullable=False),
        Column("created_at", _TIMESTAMP, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("last_error", Text, nullable=True),
        # No foreign key to the event: the entry outlives a deletion of its stream.
        PrimaryKeyConstraint("id", name=_name(prefix, "outbox_pk")),
        sqlite_autoincrement=True,
        **_TABLE_OPTIONS,
    )


def _checkpoints(metadata: MetaData, prefix: str) -> Table:
    """One row per projection (see `SQLAlchemyModels.checkpoints`)."""
    return Table(
        f"{prefix}checkpoints",
        metadata,
        Column("name", _LABEL, autoincrement=False),
        Column("position", BigInteger, nullable=False),
        PrimaryKeyConstraint("name", name=_name(prefix, "checkpoints_pk")),
        **_TABLE_OPTIONS,
    )


def _keys(metadata: MetaData, prefix: str) -> Table:
    """Encryption keys of data subjects (see `SQLAlchemyModels.keys`)."""
    return Table(
        f"{prefix}keys",
        metadata,
        Column("id", _ID, autoincrement=True),
        Column("tenant_id", _LABEL, nullable=False),
        Column("key_id", String(64), nullable=False),
        Column("subject_id", _LABEL, nullable=False),
        Column("key", LargeBinary(), nullable=False),
        PrimaryKeyConstraint("id", name=_name(prefix, "keys_pk")),
        UniqueConstraint("tenant_id", "key_id", name=_name(prefix, "keys_key_id_uq")),
        Index(_name(prefix, "keys_subject_ix"), "tenant_id", "subject_id"),
        sqlite_autoincrement=True,
        **_TABLE_OPTIONS,
    )


def _define(metadata: MetaData, prefix: str) -> SQLAlchemyModels:
    streams = _streams(metadata, prefix)
    return SQLAlchemyModels(
        streams=streams,
        events=_events(metadata, prefix, streams),
        snapshots=_snapshots(metadata, prefix, streams),
        outbox=_outbox(metadata, prefix),
        checkpoints=_checkpoints(metadata, prefix),
        keys=_keys(metadata, prefix),
    )


def configure_models(base: object, *, table_prefix: str = DEFAULT_TABLE_PREFIX) -> SQLAlchemyModels:
    """Define the event store's tables on `base`'s metadata; idempotent.

    Call it once where your models are defined, then create the tables with
    ``Base.metadata.create_all(engine)`` or an alembic migration (autogenerate sees them).

    Args:
        base: your declarative base (a `DeclarativeBase` subclass or the result of
            `declarative_base()`), or a `MetaData`.
        table_prefix: prefix of the table names (``<prefix>streams``, ``<prefix>events``,
            ``<prefix>snapshots``, ``<prefix>outbox``, ``<prefix>checkpoints``,
            ``<prefix>keys``) and of their
            constraints. Give each event store its own
            prefix to keep several independent stores on one base.

    Returns:
        The tables; pass them to `SQLAlchemyBackend(session, models=...)` unless the prefix
        is the default one.

    Raises:
        TypeError: `base` has no `MetaData`.
        InvalidInput: the prefix is not a plain identifier, is too long, or a table of that
            name is already defined on `base` by someone else.
    """
    metadata = _metadata_of(base)
    prefix = _check_prefix(table_prefix)
    configured: dict[str, SQLAlchemyModels] = metadata.info.setdefault(_INFO_KEY, {})
    models = configured.get(prefix)
    if models is not None:
        return models
    names = ("streams", "events", "snapshots", "outbox", "checkpoints")
    taken = sorted({f"{prefix}{name}" for name in names} & set(metadata.tables))
    if taken:
        raise InvalidInput(
            f"table(s) {', '.join(taken)} are already defined on this base; choose another "
            "table_prefix for the event store"
        )
    models = configured[prefix] = _define(metadata, prefix)
    return models


@cache
def default_models() -> SQLAlchemyModels:
    """Tables with the default names, for a backend made without `models=`.

    They live on a private `MetaData`: statements only need the tables' names and types, which
    are the same as those `configure_models(Base)` put on the user's base.
    """
    return _define(MetaData(), DEFAULT_TABLE_PREFIX)
