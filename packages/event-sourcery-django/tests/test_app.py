"""The Django app: shipped migrations without drift, the public API, the app's wiring."""

from __future__ import annotations

import io

import event_sourcery_django
import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
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
