"""The Django application: add ``"event_sourcery_django"`` to ``INSTALLED_APPS``."""

from __future__ import annotations

from django.apps import AppConfig


class EventSourceryConfig(AppConfig):
    """Event Sourcery's models (streams, events, snapshots, outbox, checkpoints) and admin."""

    name = "event_sourcery_django"
    label = "event_sourcery_django"
    verbose_name = "Event Sourcery"
    default_auto_field = "django.db.models.BigAutoField"
