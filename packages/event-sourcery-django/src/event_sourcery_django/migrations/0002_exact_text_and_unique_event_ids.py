"""Event types, stream names, categories and tenant ids compare exactly on MariaDB; event ids
are unique per tenant.

Before, the `type` columns had the database's default collation (case-insensitive on MariaDB)
and the label columns `utf8mb4_bin`, which pads with spaces: "Deposited", "deposited" and
"Deposited " were one type to the subscription filter. Only MySQL-family databases change;
PostgreSQL and SQLite compare byte-wise already, and their tables are left untouched (SQLite
would otherwise rebuild every table to change a field's class).
"""

from typing import Any

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

import event_sourcery_django._fields

_APP = "event_sourcery_django"
_TEXT_COLUMNS = {
    "stream": ("tenant_id", "category", "name"),
    "eventrecord": ("type", "tenant_id"),
    "snapshot": ("type",),
    "outboxrecord": ("tenant_id", "category", "stream_name", "type"),
    "checkpoint": ("name",),
    "encryptionkey": ("tenant_id", "subject_id"),
}


def _collate_exactly(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
    connection = schema_editor.connection
    if connection.vendor != "mysql":
        return
    quote = schema_editor.quote_name
    collation = event_sourcery_django._fields.MARIADB_EXACT_COLLATION
    for model_name, field_names in _TEXT_COLUMNS.items():
        model = apps.get_model(_APP, model_name)
        changes = []
        for field_name in field_names:
            field = model._meta.get_field(field_name)
            null = "NULL" if field.null else "NOT NULL"
            changes.append(
                f"MODIFY {quote(field.column)} {field.db_type(connection)} "
                f"COLLATE {collation} {null}"
            )
        schema_editor.execute(f"ALTER TABLE {quote(model._meta.db_table)} {', '.join(changes)}")


class Migration(migrations.Migration):

    dependencies = [
        ("event_sourcery_django", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunPython(_collate_exactly, migrations.RunPython.noop, elidable=False),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name=model_name,
                    name="type",
                    field=event_sourcery_django._fields.ExactCharField(max_length=255),
                )
                for model_name in ("eventrecord", "outboxrecord", "snapshot")
            ],
        ),
        # After the collations, so tenant ids compare exactly. Fails if the table holds an
        # event id twice in one tenant, which earlier versions accepted: see the changelog.
        migrations.AddConstraint(
            model_name="eventrecord",
            constraint=models.UniqueConstraint(
                fields=("uuid", "tenant_id"), name="es_django_events_uuid_uq"
            ),
        ),
    ]
