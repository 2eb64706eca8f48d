"""The Django app: shipped migrations without drift, the public API, the app's wiring."""

from __future__ import annotations

import io
from uuid import uuid4

import event_sourcery_django
import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from event_sourcery.exceptions import InvalidInput
from event_sourcery_django import DjangoBackend


def test_public_api_is_pinned() -> None:
    assert event_sourcery_django.__all__ == sorted(event_sourcery_django.__all__)
    assert event_sourcery_django.__all__ == [
        "AsyncDjangoBackend",
        "AsyncDjangoEventStore",
        "AsyncDjangoOutbox",
        "DjangoBackend",
        "DjangoEventStore",
        "DjangoStorageStrategy",
    ]


@pytest.mark.django_db  # makemigrations checks the applied history too
def test_shipped_migrations_match_the_models() -> None:
    out = io.StringIO()
    call_command("makemigrations", "event_sourcery_django", check=True, dry_run=True, stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db
def test_migrations_made_every_table() -> None:
    tables = set(connection.introspection.table_names())
    models = apps.get_app_config("event_sourcery_django").get_models()
    assert {model._meta.db_table for model in models} <= tables


def test_app_config() -> None:
    config = apps.get_app_config("event_sourcery_django")
    assert config.verbose_name == "Event Sourcery"


def test_backend_is_cheap_to_make_and_names_its_alias() -> None:
    backend = DjangoBackend(using="default")  # no connection: only the settings are read
    assert backend.using == "default"
    assert backend.in_tenant_mode("t").using == "default"
    assert repr(backend) == "DjangoBackend(using='default', tenant_id=None)"


def test_an_unknown_database_alias_is_refused_at_construction() -> None:
    # It used to fail only on first use, with Django's ConnectionDoesNotExist.
    with pytest.raises(InvalidInput, match=r"using='nope' is not a database alias.*'default'"):
        DjangoBackend(using="nope")
    with pytest.raises(InvalidInput, match="a str"):
        DjangoBackend(using=None)  # type: ignore[arg-type]


def _schema_sql(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [name])
        (sql,) = cursor.fetchone()
    return str(sql)


@pytest.mark.django_db(transaction=True)
def test_sqlite_indexes_named_streams_only_and_the_migration_keeps_every_row() -> None:
    app, table, index = (
        "event_sourcery_django",
        "event_sourcery_django_streams",
        "es_django_streams_name_uq",
    )
    before, partial = (
        (app, "0002_exact_text_and_unique_event_ids"),
        (app, "0003_sqlite_partial_stream_name_index"),
    )
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes(app)
    rows = [(uuid4().hex, "named"), (uuid4().hex, None)]
    try:
        executor.migrate([before])
        assert index in _schema_sql(table)  # the table's own constraint
        with connection.cursor() as cursor:
            for uuid, name in rows:
                cursor.execute(
                    f"INSERT INTO {table} (tenant_id, category, uuid, name, version) "
                    "VALUES ('', 'migrated', %s, %s, 1)",
                    [uuid, name],
                )
                cursor.execute(
                    "INSERT INTO event_sourcery_django_events (stream_id, version, uuid, type, "
                    "schema_version, data, context, created_at, tenant_id) VALUES "
                    "(%s, 1, %s, 'Migrated', 1, '{}', '{}', '2026-01-01 00:00:00', '')",
                    [cursor.lastrowid, uuid4().hex],
                )
        for target, partial_index in ((partial, True), (before, False), (partial, True)):
            executor = MigrationExecutor(connection)
            executor.migrate([target])
            assert (index in _schema_sql(table)) is not partial_index
            if partial_index:
                assert _schema_sql(index).endswith('WHERE "name" IS NOT NULL')
            with connection.cursor() as cursor:
                # Every stream, with its event still joined to it by its id.
                cursor.execute(
                    f"SELECT s.uuid, s.name FROM {table} s JOIN event_sourcery_django_events e "
                    "ON e.stream_id = s.id WHERE s.category = 'migrated'"
                )
                assert sorted(cursor.fetchall(), key=str) == sorted(rows, key=str)
    finally:
        MigrationExecutor(connection).migrate(latest)
