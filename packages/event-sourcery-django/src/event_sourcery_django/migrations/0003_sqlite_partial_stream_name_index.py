"""On SQLite, only named streams have an entry in the streams' name index.

The unique (name, tenant_id, category) constraint gave every stream an index entry, NULL names
included: each append that creates an unnamed stream wrote that index's page, one of the
seven pages of its commit. On SQLite the constraint becomes a unique index over the named
streams only (``WHERE name IS NOT NULL``). It refuses exactly what the constraint refused (NULL
names never collide) and serves the lookups by name, which all ask for a non-NULL name.

Only SQLite changes; the model keeps its constraint, which PostgreSQL and MariaDB go on
enforcing (MariaDB has no partial indexes). The streams table is rebuilt without the constraint,
as Django rebuilds SQLite tables: every row is copied, ids included. A later migration that
rebuilds the streams table on SQLite (a changed field) would put the full constraint back:
still correct, one page more per new unnamed stream.
"""

from typing import Any

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

_APP = "event_sourcery_django"
_NAME = "es_django_streams_name_uq"


def _partial(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    stream = apps.get_model(_APP, "stream")
    constraints = stream._meta.constraints
    (unique,) = [constraint for constraint in constraints if constraint.name == _NAME]
    # SQLite drops a table constraint by rebuilding the table from the model's options: rebuild
    # it from options without this one.
    stream._meta.constraints = [
        constraint for constraint in constraints if constraint is not unique
    ]
    try:
        schema_editor.remove_constraint(stream, unique)
    finally:
        stream._meta.constraints = constraints
    quote = schema_editor.quote_name
    columns = ", ".join(quote(stream._meta.get_field(field).column) for field in unique.fields)
    schema_editor.execute(
        f"CREATE UNIQUE INDEX {quote(_NAME)} ON {quote(stream._meta.db_table)} ({columns}) "
        f"WHERE {quote('name')} IS NOT NULL"
    )


def _full(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    stream = apps.get_model(_APP, "stream")
    (unique,) = [constraint for constraint in stream._meta.constraints if constraint.name == _NAME]
    schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(_NAME)}")
    schema_editor.add_constraint(stream, unique)  # rebuilds the table with it


class Migration(migrations.Migration):
    dependencies = [
        ("event_sourcery_django", "0002_exact_text_and_unique_event_ids"),
    ]

    operations = [
        migrations.RunPython(_partial, _full, elidable=False),
    ]
