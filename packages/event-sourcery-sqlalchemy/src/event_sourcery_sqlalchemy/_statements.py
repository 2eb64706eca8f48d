"""The SQL of the store, built once per table set and database flavour.

Statements are built once and executed with bound parameters only, so SQLAlchemy compiles each
of them once per engine and every later call reuses the cached compiled form.
"""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    DateTime,
    Delete,
    Dialect,
    Insert,
    Integer,
    Text,
    Update,
    and_,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from event_sourcery_sqlalchemy._driver import DriverInsert, DriverStatement, takes_compiled_params
from event_sourcery_sqlalchemy._models import SQLAlchemyModels

#: The columns an append inserts into the events table, in `DriverInsert`'s row order.
INSERTED = (
    "stream_id",
    "version",
    "uuid",
    "type",
    "schema_version",
    "data",
    "context",
    "created_at",
    "tenant_id",
)


class IdFrom(enum.Enum):
    """How a statement that claims a stream row tells the row's id."""

    RETURNING = "returning"  # a RETURNING clause
    LAST_INSERT_ID = "last_insert_id"  # MySQL/MariaDB: cursor.lastrowid
    LOOKUP = "lookup"  # neither: inserted_primary_key, or a SELECT afterwards


class Statements:
    """Every statement the storage strategy runs, for one table set on one dialect flavour.

    Bound parameter names start with ``p_`` so they never collide with the column names that
    INSERT and UPDATE reserve for their values.
    """

    def __init__(self, models: SQLAlchemyModels, dialect: Dialect) -> None:
        st, ev = models.streams, models.events
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

        #: The claim's fast statements on the DB-API cursor (see `_driver`) where appends
        #: take two statements (SQLite, MariaDB): by name, "create", "bump", "bump_named".
        self.driver_claim: dict[str, DriverStatement] | None = None
        if DriverInsert.supports(dialect):
            self.driver_claim = {
                "create": DriverStatement(self.create_stream, dialect),
                "bump": DriverStatement(self.bump, dialect),
                "bump_named": DriverStatement(self.bump_named, dialect),
            }

        self.find_stream = select(st.c.id, st.c.version, st.c.name).where(ident)
        # An append at a stale version may be a re-send after a lost reply: its events are
        # then already stored at the versions it asked for (see `Append._repeat`).
        self.stored_range = (
            select(ev.c.id, ev.c.uuid)
            .where(
                ev.c.stream_id == bindparam("p_id"),
                ev.c.version >= bindparam("p_first"),
                ev.c.version <= bindparam("p_last"),
            )
            .order_by(ev.c.version)
        )
        # MariaDB, versionless appends: a write to the stream row comes before the events'
        # INSERT, as `event_sourcery.sql._gaps` requires. InnoDB draws auto-increment ids before it
        # gives a transaction its id, so without it a transaction whose first write is the
        # events' INSERT would hold positions while no marker of in-flight transactions can
        # show it. The UPDATE changes nothing, but gives the transaction its id (and locks the
        # row, as a versioned append's claim does).
        self.touch: tuple[Update, Update] | None = None
        if self.is_mysql:
            touch = (
                update(st)
                .values(id=func.last_insert_id(st.c.id))
                .where(ident, st.c.version.is_(None))
            )
            self.touch = (touch, touch.where(st.c.name == bindparam("p_name")))
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
        # Taking back a claim whose events' INSERT was refused (an event id taken, see
        # `Append.run`): deleting the row it created, or restoring the row it changed. Only
        # where a failed statement leaves the transaction open (SQLite, MariaDB); PostgreSQL
        # aborts the whole transaction, so nothing of the append can be committed there.
        self.undo_claim: tuple[Delete, Update, Update, Delete] | None = None
        if family != "postgresql":
            by_id = st.c.id == bindparam("p_id")
            self.undo_claim = (
                delete(st).where(by_id),
                update(st).values(version=bindparam("p_version")).where(by_id),
                update(st).values(name=None).where(by_id),
                # Rows inserted one by one before the refused one (without RETURNING).
                delete(models.events).where(
                    models.events.c.id.in_(bindparam("p_ids", expanding=True))
                ),
            )

        # --- events --------------------------------------------------------------------------
        # PostgreSQL: the claim and the events' INSERT in one statement, one round trip.
        self.append_at_once: dict[str, Insert] | None = None
        self.append_one_at_once: dict[str, Insert] | None = None
        #: The same, compiled for the DB-API cursor (see `_driver`), by (kind, one event).
        self.driver_at_once: dict[tuple[str, bool], DriverStatement] | None = None
        if family == "postgresql":
            self.append_at_once, self.append_one_at_once = _appends_at_once(models, ident)
            if takes_compiled_params(dialect):
                self.driver_at_once = {
                    (kind, one): DriverStatement(statement, dialect)
                    for one, statements in (
                        (False, self.append_at_once),
                        (True, self.append_one_at_once),
                    )
                    for kind, statement in statements.items()
                }
        self.events_return_ids = dialect.insert_executemany_returning
        # Payloads are bound as the JSON text the core wrote (`RawEvent.data_json`), never
        # encoded again by the JSON type: as is where the column keeps text (SQLite, MariaDB),
        # cast to the column's type elsewhere.
        payload: dict[str, Any] = {}
        for name in ("data", "context"):
            text = bindparam(name, type_=Text)
            payload[name] = (
                text if family in ("sqlite", "mysql", "mariadb") else cast(text, ev.c[name].type)
            )
        scalars = ("stream_id", "version", "uuid", "type", "schema_version", "created_at")
        #: The same for SQLite and MariaDB, on the DB-API cursor (see `_driver`).
        self.driver_insert: DriverInsert | None = None
        if DriverInsert.supports(dialect):
            self.driver_insert = DriverInsert(ev, INSERTED, dialect, ("data", "context"))
        self.insert_events: Insert = insert(ev).values(
            {name: bindparam(name, type_=ev.c[name].type) for name in (*scalars, "tenant_id")}
            | payload
        )
        if self.events_return_ids:
            self.insert_events = self.insert_events.returning(ev.c.id, *notify(models, family))


def _new_stream_values() -> dict[str, Any]:
    return {
        "tenant_id": bindparam("p_tenant"),
        "category": bindparam("p_category"),
        "uuid": bindparam("p_uuid"),
        "name": bindparam("p_name"),
        "version": bindparam("p_version"),
    }


def _create_stream(models: SQLAlchemyModels, dialect: Dialect) -> tuple[Insert, bool]:
    """INSERT of a new stream row, and whether a uniqueness conflict leaves no error behind.

    On PostgreSQL a failed statement aborts the whole transaction, the user's included, so a
    conflict must not raise there: ON CONFLICT DO NOTHING inserts no row instead (also on
    SQLite). MariaDB rolls back only the failing statement, so a plain INSERT whose duplicate
    key error the caller catches is safe there.
    """
    st = models.streams
    values = _new_stream_values()
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


def notify_channel(models: SQLAlchemyModels) -> str:
    """The PostgreSQL channel appends notify and subscriptions listen on: the events table."""
    return models.events.name


def notify(models: SQLAlchemyModels, family: str) -> list[ColumnElement[Any]]:
    """PostgreSQL: `pg_notify` as a RETURNING column of the events' INSERT, else nothing.

    Inside the append's own statement, so live subscriptions wake up at its commit without a
    round trip more (PostgreSQL delivers notifications at commit, drops them on rollback, and
    sends one per transaction: the payload is always empty, so repeats collapse).
    """
    if family != "postgresql":
        return []
    return [func.pg_notify(notify_channel(models), "").label("notified")]


def _appends_at_once(
    models: SQLAlchemyModels, ident: ColumnElement[bool]
) -> tuple[dict[str, Insert], dict[str, Insert]]:
    """PostgreSQL's one-statement appends, by the kind of claim: for any number of events,
    and for a single one (plain parameters: binding arrays costs the client more than the
    rest of a one-event append).

    The claim of the stream row is a CTE (data-modifying where it changes the row) whose
    RETURNING feeds the events' INSERT ... SELECT. When the claim matches no row, no event is
    inserted and nothing is returned: the caller then takes the general path (create the
    stream, or find out what is wrong). The events come as one array per column, unnested in
    order: the statement is the same whatever the number of events, so the server prepares it
    once.
    """
    st, ev = models.streams, models.events
    version_is = st.c.version == bindparam("p_expected")
    named = st.c.name == bindparam("p_name")
    bump = update(st).values(version=bindparam("p_version"))

    # The rule of `event_sourcery.sql._gaps`: the transaction has its id before the events'
    # INSERT draws theirs. The other claims write the stream row, which assigns it before the
    # CTE returns a row, and the INSERT draws ids (nextval) only for rows joined to a claimed
    # one. A versionless claim of an existing stream only reads, so it asks for the id itself:
    # a condition on no column runs before the scan returns anything. Without it, nextval
    # would run first and the id come with the first row.
    # A versionless claim creates the stream if it is missing, in the same statement (one
    # round trip for an append to a new stream as to an existing one): `created` inserts only
    # when `existing` found nothing, and a conflict (a racing creator, a name held by another
    # stream, a versioned stream) inserts nothing, so the caller takes the general path.
    def versionless(*where: ColumnElement[bool]) -> Any:
        existing = (
            select(st.c.id, st.c.tenant_id)
            .where(ident, st.c.version.is_(None), func.pg_current_xact_id().is_not(None), *where)
            .cte("existing")
        )
        new_row = select(
            bindparam("p_tenant", type_=Text),
            bindparam("p_category", type_=Text),
            bindparam("p_uuid", type_=postgresql.UUID(as_uuid=True)),
            bindparam("p_name", type_=Text),
        ).where(~exists(select(existing.c.id)))
        created = (
            postgresql.insert(st)
            .from_select(["tenant_id", "category", "uuid", "name"], new_row)
            .on_conflict_do_nothing()
            .returning(st.c.id, st.c.tenant_id)
            .cte("created")
        )
        return union_all(
            select(existing.c.id, existing.c.tenant_id),
            select(created.c.id, created.c.tenant_id),
        )

    claims: dict[str, Any] = {
        "create": postgresql.insert(st)
        .values(_new_stream_values())
        .on_conflict_do_nothing()
        .returning(st.c.id, st.c.tenant_id),
        "bump": bump.where(ident, version_is).returning(st.c.id, st.c.tenant_id),
        "bump_named": bump.where(ident, version_is, named).returning(st.c.id, st.c.tenant_id),
        "versionless": versionless(),
        "versionless_named": versionless(named),
    }
    array = postgresql.ARRAY
    rows = (
        func.unnest(
            bindparam("e_version", type_=array(BigInteger)),
            bindparam("e_uuid", type_=array(postgresql.UUID(as_uuid=True))),
            bindparam("e_type", type_=array(Text)),
            bindparam("e_schema_version", type_=array(Integer)),
            bindparam("e_created_at", type_=array(DateTime(timezone=True))),
        )
        .table_valued(
            "version", "uuid", "type", "schema_version", "created_at", with_ordinality="ord"
        )
        .render_derived()
    )

    # Payloads come as one JSON array each, not as text[]: psycopg escapes every quote of
    # every element of a text array in Python, which cost more than the rest of a batch
    # append. json_array_elements returns each element's text as it was sent (escapes such
    # as \u0000 included), so payloads still round-trip byte for byte.
    def elements(name: str) -> Any:
        return (
            func.json_array_elements(cast(bindparam(name, type_=Text), JSON))
            .table_valued("value", with_ordinality="ord")
            .render_derived(name=f"{name}_elements")
        )

    data, context = elements("e_data"), elements("e_context")
    columns = list(INSERTED)
    statements: dict[str, Insert] = {}
    singles: dict[str, Insert] = {}
    for kind, claim in claims.items():
        claimed = claim.cte(f"claimed_{kind}")
        single = select(
            claimed.c.id,
            bindparam("e1_version", type_=BigInteger),
            bindparam("e1_uuid", type_=postgresql.UUID(as_uuid=True)),
            bindparam("e1_type", type_=Text),
            bindparam("e1_schema_version", type_=Integer),
            cast(bindparam("e1_data", type_=Text), JSON),
            cast(bindparam("e1_context", type_=Text), JSON),
            bindparam("e1_created_at", type_=DateTime(timezone=True)),
            claimed.c.tenant_id,
        ).select_from(claimed)
        singles[kind] = (
            insert(ev)
            .from_select(columns, single)
            .returning(ev.c.id, *notify(models, "postgresql"))
        )
        source = (
            select(
                claimed.c.id,
                rows.c.version,
                rows.c.uuid,
                rows.c.type,
                rows.c.schema_version,
                data.c.value,
                context.c.value,
                rows.c.created_at,
                claimed.c.tenant_id,
            )
            .select_from(
                claimed.join(rows, true())
                .join(data, data.c.ord == rows.c.ord)
                .join(context, context.c.ord == rows.c.ord)
            )
            # Ids are drawn in this order, so sorted ids are the events' positions in order.
            .order_by(rows.c.ord)
        )
        statements[kind] = (
            insert(ev)
            .from_select(columns, source)
            .returning(ev.c.id, *notify(models, "postgresql"))
        )
    return statements, singles


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
