"""The SQL of the store, built once per table set and database flavour.

Statements are built once and executed with bound parameters only, so SQLAlchemy compiles each
of them once per engine and every later call reuses the cached compiled form.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from event_sourcery.interfaces import as_utc
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    DateTime,
    Delete,
    Dialect,
    Insert,
    Select,
    Table,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.dialects import mysql, postgresql, sqlite

from event_sourcery_sqlalchemy._models import SQLAlchemyModels


class IdFrom(enum.Enum):
    """How a statement that claims a stream row tells the row's id."""

    RETURNING = "returning"  # a RETURNING clause
    LAST_INSERT_ID = "last_insert_id"  # MySQL/MariaDB: cursor.lastrowid
    LOOKUP = "lookup"  # neither: the caller selects it afterwards


class Statements:
    """Every statement the storage strategy runs, for one table set on one dialect flavour.

    Bound parameter names start with ``p_`` so they never collide with the column names that
    INSERT and UPDATE reserve for their values.
    """

    def __init__(self, models: SQLAlchemyModels, dialect: Dialect) -> None:
        st, ev, sn = models.streams, models.events, models.snapshots
        family = dialect.name
        self.is_mysql = family in ("mysql", "mariadb")
        ident = and_(
            st.c.tenant_id == bindparam("p_tenant"),
            st.c.category == bindparam("p_category"),
            st.c.uuid == bindparam("p_uuid"),
        )

        # --- claiming the stream row -------------------------------------------------------
        self.create_stream, self.create_is_conflict_safe = _create_stream(models, dialect)
        self.create_id_from = IdFrom.RETURNING if dialect.insert_returning else IdFrom.LOOKUP

        bump = update(st).values(version=bindparam("p_version"))
        if dialect.update_returning:
            self.bump_id_from = IdFrom.RETURNING
            bump = bump.returning(st.c.id)
        elif self.is_mysql:
            # LAST_INSERT_ID(expr) makes the server report the matched row's id with the
            # update's result: no second round trip for the id on MariaDB.
            self.bump_id_from = IdFrom.LAST_INSERT_ID
            bump = bump.values(id=func.last_insert_id(st.c.id))
        else:
            self.bump_id_from = IdFrom.LOOKUP
        expected = st.c.version == bindparam("p_expected")
        self.bump = bump.where(ident, expected)
        self.bump_named = bump.where(ident, expected, st.c.name == bindparam("p_name"))

        self.find_stream = select(st.c.id, st.c.version, st.c.name).where(ident)
        # The slow path reads with shared locks. A locking read sees the latest committed row
        # even under MariaDB's REPEATABLE READ, where a plain SELECT would repeat the
        # transaction's snapshot. Shared, because the losers of a race all get here at once:
        # on MariaDB each loser of a race to create a stream already holds a shared lock from
        # its duplicate key error, and exclusive requests from three of them would deadlock.
        # What the slow path then writes goes through a conditional UPDATE (`rewrite_*`).
        # Two lookups, each on a unique key, lock one row each: a single query with
        # "uuid = ? OR name = ?" could make InnoDB lock every stream of the category.
        self.lock_own = (
            select(st.c.id, st.c.version, st.c.name).where(ident).with_for_update(read=True)
        )
        self.read_name_holder = (
            select(st.c.uuid)
            .where(
                st.c.tenant_id == bindparam("p_tenant"),
                st.c.category == bindparam("p_category"),
                st.c.name == bindparam("p_name"),
            )
            .with_for_update(read=True)
        )
        rewrite = update(st).values(version=bindparam("p_version"), name=bindparam("p_name"))
        self.rewrite_versioned = rewrite.where(
            st.c.id == bindparam("p_id"), st.c.version == bindparam("p_expected")
        )
        self.rewrite_versionless = rewrite.where(
            st.c.id == bindparam("p_id"), st.c.version.is_(None)
        )

        # --- events --------------------------------------------------------------------------
        self.events_return_ids = dialect.insert_executemany_returning
        self.insert_events: Insert = insert(ev)
        if self.events_return_ids:
            self.insert_events = self.insert_events.returning(ev.c.id)
        self.load_columns = LoadColumns(dialect)
        self.load = {
            (has_start, has_stop): _load(models, self.load_columns, ident, has_start, has_stop)
            for has_start in (False, True)
            for has_stop in (False, True)
        }
        self.position = select(func.coalesce(func.max(ev.c.id), 0))

        # --- snapshots and deletion ------------------------------------------------------------
        self.snapshot_upsert, self.snapshot_delete = _snapshot_upsert(models, dialect)
        stream_ids = select(st.c.id).where(ident).scalar_subquery()
        self.deletes: tuple[Delete, ...] = (
            delete(ev).where(ev.c.stream_id == stream_ids),
            delete(sn).where(sn.c.stream_id == stream_ids),
            delete(st).where(ident),
        )


def _create_stream(models: SQLAlchemyModels, dialect: Dialect) -> tuple[Insert, bool]:
    """INSERT of a new stream row, and whether a uniqueness conflict leaves no error behind.

    On PostgreSQL a failed statement aborts the whole transaction, the user's included, so a
    conflict must not raise there: ON CONFLICT DO NOTHING inserts no row instead (also on
    SQLite). MariaDB rolls back only the failing statement, so a plain INSERT whose duplicate
    key error the caller catches is safe there.
    """
    st = models.streams
    values: dict[str, Any] = {
        "tenant_id": bindparam("p_tenant"),
        "category": bindparam("p_category"),
        "uuid": bindparam("p_uuid"),
        "name": bindparam("p_name"),
        "version": bindparam("p_version"),
    }
    statement: Insert
    if dialect.name == "postgresql":
        statement = postgresql.insert(st).values(values).on_conflict_do_nothing()
        safe = True
    elif dialect.name == "sqlite":
        statement = sqlite.insert(st).values(values).on_conflict_do_nothing()
        safe = True
    else:
        statement = insert(st).values(values)
        safe = False
    if dialect.insert_returning:
        statement = statement.returning(st.c.id)
    return statement, safe


def _utc_from_naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


def _utc_from_sqlite(text: str) -> datetime:
    # SQLAlchemy stores SQLite datetimes as "YYYY-MM-DD HH:MM:SS.ffffff" text, in UTC here;
    # fromisoformat reads that far faster than the generic DateTime result processor.
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _uuid_from_hex(text: str) -> UUID:
    # The CHAR(32) form SQLAlchemy's Uuid stores; UUID(int=...) skips the parsing of UUID(hex).
    return UUID(int=int(text, 16))


def _as_is(value: Any) -> Any:
    return value


class LoadColumns:
    """How `fetch_events` selects the payload columns on a dialect, and reads them back.

    Loads are the one place with per-row work, so the known dialects select JSON as text and
    timestamps in a form that turns into an aware UTC datetime in one cheap call.
    """

    def __init__(self, dialect: Dialect) -> None:
        self.family = dialect.name
        self.read_uuid: Callable[[Any], UUID] = _uuid_from_hex
        self.read_json: Callable[[Any], Any] = json.loads
        self.read_time: Callable[[Any], datetime] = _utc_from_naive
        if self.family == "postgresql":
            self.read_uuid = _as_is  # native UUID
        elif self.family == "sqlite":
            self.read_time = _utc_from_sqlite
        elif self.family not in ("mysql", "mariadb"):
            self.read_uuid, self.read_json, self.read_time = _as_is, _as_is, as_utc

    def payload(self, table: Table) -> list[ColumnElement[Any]]:
        """version, uuid, type, data, context, created_at of `table` (events or snapshots)."""
        c = table.c
        uuid: ColumnElement[Any] = c.uuid
        data: ColumnElement[Any] = c.data
        context: ColumnElement[Any] = c.context
        created_at: ColumnElement[Any] = c.created_at
        if self.family == "postgresql":
            data, context = cast(c.data, Text), cast(c.context, Text)
            # Naive UTC whatever the session's TimeZone: astimezone() per row costs more.
            created_at = func.timezone("UTC", c.created_at, type_=DateTime())
        elif self.family in ("sqlite", "mysql", "mariadb"):
            uuid = type_coerce(c.uuid, Text)
            data, context = type_coerce(c.data, Text), type_coerce(c.context, Text)
            if self.family == "sqlite":
                created_at = type_coerce(c.created_at, Text)
        columns = [c.version, uuid, c.type, data, context, created_at]
        return [column.label(name) for column, name in zip(columns, _PAYLOAD, strict=True)]


_PAYLOAD = ("version", "uuid", "type", "data", "context", "created_at")


def _load(
    models: SQLAlchemyModels,
    columns: LoadColumns,
    ident: ColumnElement[bool],
    has_start: bool,
    has_stop: bool,
) -> Select[Any] | CompoundSelect[Any]:
    """One round trip for `fetch_events`: the applicable snapshot, then the newer events.

    Rows: version, uuid, type, data, context, created_at, stream name, position. Ordered by
    version, then position: the snapshot's version is below those of the events after it.
    Every column is labelled: SQLite orders a UNION only by the names of its output columns.
    """
    st, ev, sn = models.streams, models.events, models.snapshots
    stop: BindParameter[int] = bindparam("p_stop")
    if has_start:
        source = st.join(ev, ev.c.stream_id == st.c.id)
        in_window = ev.c.version >= bindparam("p_start")
    else:
        # The snapshot in the window (if any) is joined once per load, not looked up per event.
        snapshot_on = sn.c.stream_id == st.c.id
        if has_stop:
            snapshot_on = and_(snapshot_on, sn.c.version < stop)
        source = st.outerjoin(sn, snapshot_on).join(ev, ev.c.stream_id == st.c.id)
        # Versions start at 1, so 0 stands for "no snapshot: every event".
        in_window = ev.c.version > func.coalesce(sn.c.version, literal_column("0"))
    if has_stop:
        in_window = and_(in_window, ev.c.version < stop)
    events = (
        select(*columns.payload(ev), st.c.name.label("name"), ev.c.id.label("position"))
        .select_from(source)
        # Events of versionless streams have no version and are always in the window.
        .where(ident, or_(ev.c.version.is_(None), in_window))
    )
    if has_start:
        return events.order_by(ev.c.version, ev.c.id)
    snapshot = (
        select(
            *columns.payload(sn),
            st.c.name.label("name"),
            literal_column("0").label("position"),
        )
        .select_from(st.join(sn, sn.c.stream_id == st.c.id))
        .where(ident, *([sn.c.version < stop] if has_stop else []))
    )
    both = union_all(snapshot, events)
    selected = both.selected_columns
    return both.order_by(selected.version, selected.position)


def _snapshot_upsert(models: SQLAlchemyModels, dialect: Dialect) -> tuple[Insert, Delete | None]:
    """The statement replacing a stream's snapshot, and a DELETE to run first if it needs one."""
    sn = models.snapshots
    replaced = [column.name for column in sn.columns if column.name != "stream_id"]
    if dialect.name in ("postgresql", "sqlite"):
        dialect_insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
        pg_or_sqlite = dialect_insert(sn)
        return (
            pg_or_sqlite.on_conflict_do_update(
                index_elements=[sn.c.stream_id],
                set_={name: pg_or_sqlite.excluded[name] for name in replaced},
            ),
            None,
        )
    if dialect.name in ("mysql", "mariadb"):
        my = mysql.insert(sn)
        return my.on_duplicate_key_update({name: my.inserted[name] for name in replaced}), None
    return insert(sn), delete(sn).where(sn.c.stream_id == bindparam("p_id"))


def statements_for(models: SQLAlchemyModels, dialect: Dialect) -> Statements:
    """The statements of `models` on `dialect`, built on first use and then reused."""
    key = (
        dialect.name,
        dialect.insert_returning,
        dialect.update_returning,
        dialect.insert_executemany_returning,
    )
    statements: Statements | None = models.cache.get(key)
    if statements is None:
        statements = models.cache[key] = Statements(models, dialect)
    return statements
