"""The SQL of the store, built once per table set and database flavour.

Statements are built once and executed with bound parameters only, so SQLAlchemy compiles each
of them once per engine and every later call reuses the cached compiled form.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Delete,
    Dialect,
    Insert,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.dialects import mysql, postgresql, sqlite

from event_sourcery_sqlalchemy._driver import DriverStatement
from event_sourcery_sqlalchemy._models import SQLAlchemyModels
from event_sourcery_sqlalchemy._reading import LoadColumns, load_statement


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

        self.find_stream = select(st.c.id, st.c.version, st.c.name).where(ident)

        # --- events --------------------------------------------------------------------------
        # Where the payload columns are plain text (MariaDB), the store writes the JSON text.
        self.json_as_text = not isinstance(ev.c.data.type.dialect_impl(dialect), JSON)
        self.load_columns = LoadColumns(dialect)
        self.load = {
            (has_start, has_stop): load_statement(
                models, self.load_columns, ident, has_start, has_stop
            )
            for has_start in (False, True)
            for has_stop in (False, True)
        }
        #: The same, compiled for the DB-API cursor (see `_driver`), on the dialects whose
        #: columns `LoadColumns` reads from the driver's own values.
        self.driver_load: dict[tuple[bool, bool], DriverStatement] | None = None
        if self.load_columns.json_is_text:
            self.driver_load = {
                key: DriverStatement(statement, dialect) for key, statement in self.load.items()
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


def notify_channel(models: SQLAlchemyModels) -> str:
    """The PostgreSQL channel appends notify and subscriptions listen on: the events table."""
    return models.events.name


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
