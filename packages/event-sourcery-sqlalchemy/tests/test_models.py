"""`configure_models`: idempotent, both declarative styles, custom table names."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from event_sourcery import StreamId
from event_sourcery.exceptions import InvalidInput, StorageError
from event_sourcery_sqlalchemy import (
    DEFAULT_TABLE_PREFIX,
    SQLAlchemyBackend,
    SQLAlchemyModels,
    configure_models,
)
from sqlalchemy import Engine, MetaData, create_engine, inspect
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, declarative_base, mapped_column
from sqlalchemy.pool import StaticPool
from sqlalchemy.schema import CreateTable

from ._events import Deposited

DEFAULT_TABLES = {
    f"{DEFAULT_TABLE_PREFIX}streams",
    f"{DEFAULT_TABLE_PREFIX}events",
    f"{DEFAULT_TABLE_PREFIX}snapshots",
    f"{DEFAULT_TABLE_PREFIX}outbox",
    f"{DEFAULT_TABLE_PREFIX}checkpoints",
    f"{DEFAULT_TABLE_PREFIX}keys",
}


def _engine(metadata: MetaData) -> Engine:
    engine = create_engine("sqlite://", poolclass=StaticPool)
    metadata.create_all(engine)
    return engine


@pytest.fixture
def base() -> type[DeclarativeBase]:
    class Base(DeclarativeBase):
        pass

    return Base


def test_declarative_base_subclass_gets_the_tables(base: type[DeclarativeBase]) -> None:
    models = configure_models(base)
    assert set(base.metadata.tables) == DEFAULT_TABLES
    assert models.tables == (
        models.streams,
        models.events,
        models.snapshots,
        models.outbox,
        models.checkpoints,
        models.keys,
    )
    assert all(table.metadata is base.metadata for table in models.tables)


def test_declarative_base_function_and_plain_metadata_work_too() -> None:
    legacy_base = declarative_base()
    configure_models(legacy_base)
    assert set(legacy_base.metadata.tables) == DEFAULT_TABLES
    metadata = MetaData()
    configure_models(metadata)
    assert set(metadata.tables) == DEFAULT_TABLES


def test_configuring_twice_returns_the_same_models(base: type[DeclarativeBase]) -> None:
    first = configure_models(base)
    assert configure_models(base) is first
    assert configure_models(base, table_prefix=DEFAULT_TABLE_PREFIX) is first
    assert len(base.metadata.tables) == len(DEFAULT_TABLES)


def test_own_tables_live_next_to_ours(base: type[DeclarativeBase]) -> None:
    class Customer(base):  # type: ignore[valid-type, misc]
        __tablename__ = "customer"
        id: Mapped[int] = mapped_column(primary_key=True)

    configure_models(base)
    engine = _engine(base.metadata)
    assert set(inspect(engine).get_table_names()) == DEFAULT_TABLES | {"customer"}


def test_two_prefixes_make_two_independent_stores(base: type[DeclarativeBase]) -> None:
    billing = configure_models(base, table_prefix="billing_")
    shipping = configure_models(base, table_prefix="shipping_")
    assert billing.streams.name == "billing_streams"
    assert shipping.events.name == "shipping_events"
    engine = _engine(base.metadata)
    stream = StreamId(name="order-1", category="order")
    with Session(engine) as session:
        billing_store = SQLAlchemyBackend(session, models=billing).event_store
        shipping_store = SQLAlchemyBackend(session, models=shipping).event_store
        billing_store.append(Deposited(amount=1), stream_id=stream)
        shipping_store.append(Deposited(amount=2), Deposited(amount=3), stream_id=stream)
        assert [w.event.amount for w in billing_store.load_stream(stream)] == [1]
        assert [w.event.amount for w in shipping_store.load_stream(stream)] == [2, 3]
        shipping_store.delete_stream(stream)
        assert [w.event.amount for w in billing_store.load_stream(stream)] == [1]


def test_constraint_names_ignore_the_naming_convention() -> None:
    metadata = MetaData(
        naming_convention={
            "pk": "pk_%(table_name)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s",
        }
    )
    models = configure_models(metadata, table_prefix="es_")
    engine = _engine(metadata)
    inspector = inspect(engine)
    assert {uq["name"] for uq in inspector.get_unique_constraints("es_streams")} == {
        "es_streams_uuid_uq",
        "es_streams_name_uq",
    }
    assert {fk["name"] for fk in inspector.get_foreign_keys("es_events")} == {"es_events_stream_fk"}
    assert {uq["name"] for uq in inspector.get_unique_constraints("es_events")} == {
        "es_events_stream_version_uq",
        "es_events_uuid_uq",
    }
    assert models.events.primary_key.name == "es_events_pk"


@pytest.mark.parametrize("prefix", ["", "1abc", "my-app_", "spaces here", "x" * 40, None])
def test_unusable_prefixes_are_rejected(base: type[DeclarativeBase], prefix: object) -> None:
    with pytest.raises(InvalidInput, match="table_prefix"):
        configure_models(base, table_prefix=prefix)  # type: ignore[arg-type]
    assert not base.metadata.tables


def test_a_table_of_the_same_name_is_not_taken_over(base: type[DeclarativeBase]) -> None:
    class Clash(base):  # type: ignore[valid-type, misc]
        __tablename__ = "app_events"
        id: Mapped[int] = mapped_column(primary_key=True)

    with pytest.raises(InvalidInput, match="app_events"):
        configure_models(base, table_prefix="app_")


def test_something_without_metadata_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="declarative base"):
        configure_models(object())


@pytest.fixture
def prefixed_engine(base: type[DeclarativeBase]) -> Iterator[tuple[Engine, SQLAlchemyModels]]:
    models = configure_models(base, table_prefix="custom_")
    engine = _engine(base.metadata)
    yield engine, models
    engine.dispose()


def test_a_backend_without_models_uses_the_default_names(
    prefixed_engine: tuple[Engine, SQLAlchemyModels],
) -> None:
    engine, models = prefixed_engine
    with Session(engine) as session:
        SQLAlchemyBackend(session, models=models).event_store.append(
            Deposited(amount=1), stream_id=StreamId()
        )
        # Only custom_* tables exist: the default-named ones are not there.
        with pytest.raises(StorageError, match="configure_models"):
            SQLAlchemyBackend(session).event_store.load_stream(StreamId())


def test_mariadb_tables_compare_text_exactly(base: type[DeclarativeBase]) -> None:
    # utf8mb4_bin pads with spaces: "Deposited " would equal "Deposited" (issue 11, item 3).
    models = configure_models(base)
    for table in models.tables:
        ddl = str(CreateTable(table).compile(dialect=mysql.dialect()))
        assert "COLLATE utf8mb4_nopad_bin" in ddl, table.name
