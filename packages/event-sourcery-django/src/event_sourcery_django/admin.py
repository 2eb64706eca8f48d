"""A read-only admin: browse streams and their events, the outbox and the checkpoints.

Nothing can be added, changed or deleted here: the store's invariants live in the backend's
statements, so data changes only through it. Staff users need the models' "view" permission.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from event_sourcery_django.models import Checkpoint, EventRecord, OutboxRecord, Snapshot, Stream

#: Events shown on a stream's page; the rest are a click away, in the event list.
STREAM_PAGE_EVENTS = 100


def pretty_json(text: str) -> SafeString:
    """Stored JSON text, indented, as a <pre> block (the text as is if it is not JSON)."""
    try:
        shown = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        shown = text
    return format_html('<pre style="white-space: pre-wrap">{}</pre>', shown)


def _or_none(value: str, none: str) -> str:
    return value if value else none


class _LabelFilter(admin.SimpleListFilter):
    """Filters on a label column where '' means "none" (default tenant, no category)."""

    column = ""
    none_label = ""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        values = (
            model_admin.get_queryset(request)
            .order_by(self.column)
            .values_list(self.column, flat=True)
            .distinct()
        )
        return [(value or "-", _or_none(value, self.none_label)) for value in values]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value is None:
            return queryset
        if "\x00" in value:
            # No stored label holds a NUL (the identifier rules refuse control characters),
            # and PostgreSQL refuses one even in a query's parameter: an empty list, not a 500.
            return queryset.none()
        return queryset.filter(**{self.column: "" if value == "-" else value})


class StreamCategoryFilter(_LabelFilter):
    title = "category"
    parameter_name = "category"
    column = "category"
    none_label = "(no category)"


class StreamTenantFilter(_LabelFilter):
    title = "tenant"
    parameter_name = "tenant"
    column = "tenant_id"
    none_label = "(default)"


class EventCategoryFilter(StreamCategoryFilter):
    column = "stream__category"


class EventTenantFilter(StreamTenantFilter):
    pass


class EventTypeFilter(_LabelFilter):
    title = "type"
    parameter_name = "type"
    column = "type"


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Views only: no add, change or delete, and no bulk actions."""

    actions = None

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _change_url(obj: Model) -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])


@admin.register(Stream)
class StreamAdmin(ReadOnlyAdmin):
    list_display = ("uuid", "name", "category_shown", "tenant_shown", "version")
    list_filter = (StreamCategoryFilter, StreamTenantFilter)
    search_fields = ("name", "=uuid")
    fields = ("uuid", "name", "category_shown", "tenant_shown", "version", "events_shown")
    readonly_fields = fields

    @admin.display(description="category", ordering="category")
    def category_shown(self, stream: Stream) -> str:
        return _or_none(stream.category, "(no category)")

    @admin.display(description="tenant", ordering="tenant_id")
    def tenant_shown(self, stream: Stream) -> str:
        return _or_none(stream.tenant_id, "(default)")

    @admin.display(description="events")
    def events_shown(self, stream: Stream) -> SafeString:
        events = list(stream.events.order_by("id")[: STREAM_PAGE_EVENTS + 1])
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (_change_url(e), e.id, e.version or "—", e.type, e.created_at, pretty_json(e.data))
                for e in events[:STREAM_PAGE_EVENTS]
            ),
        )
        listing = reverse("admin:event_sourcery_django_eventrecord_changelist")
        more = format_html(
            '<p><a href="{}?stream__id__exact={}">All events of this stream</a></p>',
            listing,
            stream.pk,
        )
        return format_html(
            "<table><thead><tr><th>position</th><th>version</th><th>type</th>"
            "<th>created at</th><th>data</th></tr></thead><tbody>{}</tbody></table>{}",
            rows,
            more,
        )


@admin.register(EventRecord)
class EventRecordAdmin(ReadOnlyAdmin):
    list_display = ("id", "type", "stream_shown", "version", "tenant_shown", "created_at")
    list_filter = (EventCategoryFilter, EventTenantFilter, EventTypeFilter, "created_at")
    list_select_related = ("stream",)
    search_fields = ("=type", "stream__name", "=stream__uuid", "=uuid")
    fields = (
        "id",
        "stream_shown",
        "version",
        "type",
        "schema_version",
        "uuid",
        "tenant_shown",
        "created_at",
        "data_shown",
        "context_shown",
    )
    readonly_fields = fields

    @admin.display(description="stream", ordering="stream_id")
    def stream_shown(self, event: EventRecord) -> SafeString:
        return format_html('<a href="{}">{}</a>', _change_url(event.stream), event.stream)

    @admin.display(description="tenant", ordering="tenant_id")
    def tenant_shown(self, event: EventRecord) -> str:
        return _or_none(event.tenant_id, "(default)")

    @admin.display(description="data")
    def data_shown(self, event: EventRecord) -> SafeString:
        return pretty_json(event.data)

    @admin.display(description="context (metadata)")
    def context_shown(self, event: EventRecord) -> SafeString:
        return pretty_json(event.context)


@admin.register(Snapshot)
class SnapshotAdmin(ReadOnlyAdmin):
    list_display = ("stream", "type", "version", "created_at")
    list_select_related = ("stream",)
    fields = ("stream", "version", "type", "schema_version", "uuid", "created_at", "data_shown")
    readonly_fields = fields

    @admin.display(description="data")
    def data_shown(self, snapshot: Snapshot) -> SafeString:
        return pretty_json(snapshot.data)


@admin.register(OutboxRecord)
class OutboxRecordAdmin(ReadOnlyAdmin):
    list_display = ("id", "type", "position", "category", "attempts", "last_error")
    list_filter = ("attempts",)
    fields = (
        "id",
        "position",
        "type",
        "category",
        "stream_uuid",
        "stream_name",
        "version",
        "tenant_id",
        "attempts",
        "last_error",
        "data_shown",
        "context_shown",
    )
    readonly_fields = fields

    @admin.display(description="data")
    def data_shown(self, entry: OutboxRecord) -> SafeString:
        return pretty_json(entry.data)

    @admin.display(description="context (metadata)")
    def context_shown(self, entry: OutboxRecord) -> SafeString:
        return pretty_json(entry.context)


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ("name", "position")
    search_fields = ("name",)
