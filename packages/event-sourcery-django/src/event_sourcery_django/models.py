"""The tables of the event store, as Django models (created by the app's migrations).

The store writes and reads them with SQL of its own (see `_storage`; the append is
`event_sourcery.sql`'s); the models exist for migrations, the admin and your own read-only
queries. Change data only through the backend: the store's invariants (versions, positions,
the gap rule) live in its statements.

Default tenant and "no category" are stored as ``''`` (tenant ids and categories are never
empty), so the unique constraints cover them. Event data and context are JSON text, written
and read back byte for byte: no JSON column type keeps every string a Python str can hold.
"""

from __future__ import annotations

from django.db import models

from event_sourcery_django import _tables
from event_sourcery_django._fields import ExactCharField, LabelField

_TYPE_LENGTH = 255


class Stream(models.Model):
    """One row per stream: its identity, its bound name and its version."""

    id = models.BigAutoField(primary_key=True)
    tenant_id = LabelField(blank=True, help_text="'' for the default (tenant-less) context.")
    category = LabelField(blank=True, help_text="'' for a stream without a category.")
    uuid = models.UUIDField()
    name = LabelField(null=True, blank=True)
    version = models.BigIntegerField(null=True, help_text="NULL for a versionless stream.")

    class Meta:
        db_table = _tables.STREAMS
        verbose_name = "stream"
        constraints = [
            models.UniqueConstraint(
                fields=["uuid", "tenant_id", "category"], name="es_django_streams_uuid_uq"
            ),
            models.UniqueConstraint(
                fields=["name", "tenant_id", "category"], name="es_django_streams_name_uq"
            ),
        ]

    def __str__(self) -> str:
        label = self.name or str(self.uuid)
        return f"{self.category}/{label}" if self.category else label


class EventRecord(models.Model):
    """One row per stored event; its `id` is the event's global position."""

    id = models.BigAutoField(primary_key=True, verbose_name="position")
    # The unique (stream, version) index serves the foreign key too.
    stream = models.ForeignKey(
        Stream, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    version = models.BigIntegerField(null=True)
    uuid = models.UUIDField()
    type = ExactCharField(max_length=_TYPE_LENGTH)
    schema_version = models.IntegerField(default=1)
    data = models.TextField(help_text="The event as JSON text.")
    context = models.TextField(help_text="The event's context (metadata) as JSON text.")
    created_at = models.DateTimeField()
    tenant_id = LabelField(blank=True, help_text="A copy of the stream's, to filter the log.")

    class Meta:
        db_table = _tables.EVENTS
        verbose_name = "event"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["stream", "version"], name="es_django_events_stream_version_uq"
            ),
            # Event ids are unique per tenant, refused by the append's INSERT itself.
            models.UniqueConstraint(fields=["uuid", "tenant_id"], name="es_django_events_uuid_uq"),
        ]

    def __str__(self) -> str:
        return f"#{self.id} {self.type}"


class Snapshot(models.Model):
    """At most one row per stream: its latest snapshot."""

    stream = models.OneToOneField(
        Stream, primary_key=True, on_delete=models.CASCADE, related_name="snapshot"
    )
    version = models.BigIntegerField()
    uuid = models.UUIDField()
    type = ExactCharField(max_length=_TYPE_LENGTH)
    schema_version = models.IntegerField(default=1)
    data = models.TextField()
    context = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        db_table = _tables.SNAPSHOTS
        verbose_name = "snapshot"

    def __str__(self) -> str:
        return f"{self.type} at version {self.version}"


class OutboxRecord(models.Model):
    """An event waiting to be published; a copy, so that deleting its stream loses nothing."""

    id = models.BigAutoField(primary_key=True)
    position = models.BigIntegerField()
    tenant_id = LabelField(blank=True)
    category = LabelField(blank=True)
    stream_uuid = models.UUIDField()
    stream_name = LabelField(null=True, blank=True)
    version = models.BigIntegerField(null=True)
    uuid = models.UUIDField()
    type = ExactCharField(max_length=_TYPE_LENGTH)
    schema_version = models.IntegerField(default=1)
    data = models.TextField()
    context = models.TextField()
    created_at = models.DateTimeField()
    attempts = models.IntegerField(default=0)
    last_error = models.TextField(null=True, blank=True)

    class Meta:
        db_table = _tables.OUTBOX
        verbose_name = "outbox entry"
        verbose_name_plural = "outbox entries"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.id} {self.type} (position {self.position})"


class Checkpoint(models.Model):
    """A projection's checkpoint: every event up to `position` was applied."""

    name = LabelField(primary_key=True)
    position = models.BigIntegerField(default=0)

    class Meta:
        db_table = _tables.CHECKPOINTS
        verbose_name = "projection checkpoint"

    def __str__(self) -> str:
        return f"{self.name} at {self.position}"


class EncryptionKey(models.Model):
    """A data subject's key for crypto-shredding; shredding deletes every key of the subject."""

    id = models.BigAutoField(primary_key=True)
    tenant_id = LabelField(blank=True)
    subject_id = LabelField()
    key_id = models.CharField(max_length=64)
    key = models.BinaryField()

    class Meta:
        db_table = _tables.KEYS
        verbose_name = "encryption key"
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "key_id"], name="es_django_keys_id_uq")
        ]
        indexes = [models.Index(fields=["tenant_id", "subject_id"], name="es_django_keys_subject")]

    def __str__(self) -> str:
        return f"key {self.key_id} of {self.subject_id}"
