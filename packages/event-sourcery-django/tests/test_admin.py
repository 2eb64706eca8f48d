"""The read-only admin, rendered through Django's test client for a staff user."""

from __future__ import annotations

import html
from uuid import uuid4

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from event_sourcery import Context, Event, StreamId, WrappedEvent
from event_sourcery_django import DjangoBackend
from event_sourcery_django.models import EventRecord, Stream

pytestmark = pytest.mark.django_db

ADMIN = "/admin/event_sourcery_django"


class TicketSold(Event):
    __event_name__ = "es_django_tests.TicketSold"
    seat: str
    price: int


@pytest.fixture
def staff(client: Client) -> Client:
    """A logged-in staff user who may view (only view) the store's models."""
    user = User.objects.create_user(f"staff-{uuid4().hex[:8]}", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="event_sourcery_django", codename__startswith="view_"
        )
    )
    client.force_login(user)
    return client


@pytest.fixture
def stream() -> StreamId:
    stream = StreamId(name=f"concert-{uuid4().hex[:8]}", category="concert")
    context = Context(correlation_id=uuid4(), user="box-office")
    DjangoBackend().in_tenant_mode("acme").event_store.append(
        WrappedEvent.wrap(TicketSold(seat="A1", price=120), context=context),
        TicketSold(seat="Zażółć 🐍", price=80),
        stream_id=stream,
    )
    return stream


def _page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return html.unescape(response.content.decode())


def test_stream_list_filters_by_category_and_tenant(staff: Client, stream: StreamId) -> None:
    assert stream.name in _page(staff, f"{ADMIN}/stream/")
    assert stream.name in _page(staff, f"{ADMIN}/stream/?category=concert&tenant=acme")
    assert stream.name not in _page(staff, f"{ADMIN}/stream/?tenant=-")  # the default tenant
    assert stream.name not in _page(staff, f"{ADMIN}/stream/?category=-")


def test_stream_page_lists_its_events_with_their_data(staff: Client, stream: StreamId) -> None:
    row = Stream.objects.get(uuid=stream.uuid, tenant_id="acme")
    page = _page(staff, f"{ADMIN}/stream/{row.pk}/change/")
    assert stream.name in page
    assert page.count("es_django_tests.TicketSold") == 2
    assert '"seat": "Zażółć 🐍"' in page  # pretty-printed, not \u-escaped
    assert f"stream__id__exact={row.pk}" in page


def test_event_list_filters_by_category_tenant_and_type(staff: Client, stream: StreamId) -> None:
    url = f"{ADMIN}/eventrecord/"
    page = _page(staff, f"{url}?category=concert&tenant=acme&type=es_django_tests.TicketSold")
    assert page.count(stream.name or "") >= 2
    assert stream.name not in _page(staff, f"{url}?type=es_conformance.Deposited")
    row = Stream.objects.get(uuid=stream.uuid, tenant_id="acme")
    assert page.count("es_django_tests.TicketSold") >= 2
    assert stream.name in _page(staff, f"{url}?stream__id__exact={row.pk}")


def test_event_page_shows_data_and_metadata_pretty_printed(staff: Client, stream: StreamId) -> None:
    event = EventRecord.objects.filter(stream__uuid=stream.uuid).order_by("id").first()
    assert event is not None
    page = _page(staff, f"{ADMIN}/eventrecord/{event.pk}/change/")
    assert '{\n  "seat": "A1",\n  "price": 120\n}' in page
    assert '"user": "box-office"' in page
    assert '"correlation_id": "' in page
    assert "(default)" not in page
    assert "acme" in page


def test_nothing_can_be_added_changed_or_deleted(staff: Client, stream: StreamId) -> None:
    event = EventRecord.objects.filter(stream__uuid=stream.uuid).first()
    assert event is not None
    assert staff.get(f"{ADMIN}/eventrecord/add/").status_code == 403
    assert staff.get(f"{ADMIN}/eventrecord/{event.pk}/delete/").status_code == 403
    response = staff.post(f"{ADMIN}/eventrecord/{event.pk}/change/", {"type": "hacked"})
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.type == "es_django_tests.TicketSold"


def test_other_admin_pages_render(staff: Client, stream: StreamId) -> None:
    for model in ("snapshot", "outboxrecord", "checkpoint"):
        _page(staff, f"{ADMIN}/{model}/")
    assert "Event Sourcery" in _page(staff, "/admin/")
