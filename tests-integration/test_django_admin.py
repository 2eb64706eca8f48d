"""The Django admin on PostgreSQL and MariaDB (SQLite: the package's ``tests/test_admin.py``).

The admin reads the store's models through a database router that sends them to the server's
alias; the staff user and the session stay on the default (SQLite) database.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from event_sourcery import Event, StreamId

support = sys.modules["es_django_integration"]  # loaded by conftest.py
support.configure()
support.load(  # the admin's URLs: settings.ROOT_URLCONF names this module
    "event_sourcery_django_tests_urls",
    support.PACKAGE_TESTS / "event_sourcery_django_tests_urls.py",
)

# Django's models can be imported once it is configured.
from django.contrib.auth.models import Permission, User  # noqa: E402
from django.db.models import Model  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from event_sourcery_django import DjangoBackend  # noqa: E402

ADMIN = "/admin/event_sourcery_django"


def _on(server: str) -> Any:
    """`server` as a fixture parameter, with its test database if it has an alias."""
    if server in support.databases():
        return pytest.param(server, marks=pytest.mark.django_db(databases=["default", server]))
    return server  # the fixture skips it (or fails, with --require-backends)


class TicketSold(Event):
    __event_name__ = "es_django_admin_tests.TicketSold"
    seat: str


class StoreOn:
    """A database router: the store's models on one alias, everything else on the default."""

    def __init__(self, alias: str) -> None:
        self.alias = alias

    def _route(self, model: type[Model], **hints: Any) -> str | None:
        return self.alias if model._meta.app_label == "event_sourcery_django" else None

    db_for_read = _route
    db_for_write = _route


@pytest.fixture(params=[_on("postgresql"), _on("mariadb")])
def server(request: pytest.FixtureRequest) -> Iterator[str]:
    """The alias of one server, with the store's models routed to it."""
    alias: str = request.param
    support.require(request, alias)
    with override_settings(DATABASE_ROUTERS=[StoreOn(alias)]):
        yield alias


@pytest.fixture
def staff(server: str, client: Client) -> Client:
    """A logged-in staff user who may view the store's models."""
    user = User.objects.create_user(f"staff-{uuid4().hex[:8]}", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="event_sourcery_django", codename__startswith="view_"
        )
    )
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "query",
    [
        "stream/?tenant=a%00b",
        "stream/?category=a%00b",
        "eventrecord/?type=a%00b",
        "eventrecord/?tenant=a%00b",
        "eventrecord/?category=a%00b",
    ],
)
def test_nul_byte_in_a_list_filter_is_an_empty_list_not_a_server_error(
    staff: Client, server: str, query: str
) -> None:
    stream = _a_stream(server)
    response = staff.get(f"{ADMIN}/{query}")
    assert response.status_code == 200
    assert stream.name not in response.content.decode()


@pytest.mark.parametrize("model", ["stream", "eventrecord", "checkpoint"])
def test_nul_byte_in_the_search_box_is_no_server_error(
    staff: Client, server: str, model: str
) -> None:
    _a_stream(server)
    assert staff.get(f"{ADMIN}/{model}/?q=a%00b").status_code == 200  # Django's own message


def _a_stream(server: str) -> StreamId:
    stream = StreamId(name=f"concert-{uuid4().hex[:8]}", category="concert")
    DjangoBackend(using=server).in_tenant_mode("acme").event_store.append(
        TicketSold(seat="A1"), stream_id=stream
    )
    return stream
