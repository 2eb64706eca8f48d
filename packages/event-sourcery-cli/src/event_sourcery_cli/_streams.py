"""``streams list``, ``streams show``, ``log tail`` and ``stats``: reading a store."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import typer
from event_sourcery import RawEvent, StreamId
from event_sourcery.exceptions import InvalidInput
from event_sourcery.interfaces import RecordedRaw

from event_sourcery_cli._app import app, backend_of, handled, tenant_of
from event_sourcery_cli._log import statistics, summarize, tail, walk
from event_sourcery_cli._output import as_json, console, emit, emit_record, working

streams = typer.Typer(help="The streams of the store.", no_args_is_help=True)
log = typer.Typer(help="The global log of every stream.", no_args_is_help=True)
app.add_typer(streams, name="streams")
app.add_typer(log, name="log")

JsonOption = Annotated[bool, typer.Option("--json", help="One JSON document, for scripts.")]
_STREAM_COLUMNS = (
    "stream_id", "name", "category", "tenant", "events", "last_version", "last_write",
)  # fmt: skip
_EVENT_COLUMNS = ("version", "type", "created_at", "event_id")
_LOG_COLUMNS = ("position", "tenant", "category", "stream_id", "version", "type", "created_at")


def _tenants(ctx: typer.Context) -> tuple[str | None, ...] | None:
    tenant = tenant_of(ctx)
    return None if tenant is None else (tenant,)


def _event_row(raw: RawEvent, *, data: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "version": raw.version,
        "type": raw.type,
        "created_at": raw.created_at.isoformat(),
        "event_id": str(raw.uuid),
    }
    if data:
        row["data"] = raw.data
    return row


def _log_row(record: RecordedRaw, *, data: bool) -> dict[str, Any]:
    stream_id = record.raw.stream_id
    return {
        "position": record.position,
        "tenant": record.tenant_id,
        "category": stream_id.category,
        "stream_id": str(stream_id.uuid),
        "name": stream_id.name,
        **_event_row(record.raw, data=data),
    }


@streams.command("list")
@handled
def list_streams(
    ctx: typer.Context,
    category: Annotated[
        list[str] | None, typer.Option(help="Only streams of this category (repeatable).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Every stream with its event count, last version and last write (oldest write first)."""
    with backend_of(ctx) as backend, working("reading the log"):
        found = summarize(walk(backend, categories=category or (), tenants=_tenants(ctx)))
    rows = [summary.as_json() for summary in found]
    emit(rows, _STREAM_COLUMNS, json_output=json_output, title="Streams")


def _stream_id(stream: str, category: str | None) -> StreamId:
    try:
        return StreamId(UUID(stream), category=category)
    except ValueError:
        return StreamId(name=stream, category=category)


@streams.command("show")
@handled
def show_stream(
    ctx: typer.Context,
    stream: Annotated[str, typer.Argument(help="The stream's uuid or name.")],
    category: Annotated[str | None, typer.Option(help="The stream's category.")] = None,
    data: Annotated[bool, typer.Option("--data", help="Show each event's JSON data.")] = False,
    json_output: JsonOption = False,
) -> None:
    """The events of one stream: version, type, time (and data with --data)."""
    stream_id = _stream_id(stream, category)
    with backend_of(ctx) as backend:
        events = backend.event_store.load_stream_raw(stream_id)
    if not events:
        where = f" in category {category!r}" if category is not None else " (no category)"
        raise InvalidInput(
            f"no stream {stream!r}{where}; `streams list` shows the streams and categories"
        )
    rows = [_event_row(raw, data=data) for raw in events]
    columns = (*_EVENT_COLUMNS, "data") if data else _EVENT_COLUMNS
    emit(rows, columns, json_output=json_output, title=f"Stream {stream}")


@log.command("tail")
@handled
def tail_log(
    ctx: typer.Context,
    lines: Annotated[int, typer.Option("-n", "--lines", min=0, help="How many events.")] = 10,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Then print new events live (Ctrl-C stops).")
    ] = False,
    data: Annotated[bool, typer.Option("--data", help="Show each event's JSON data.")] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="JSON lines, one event per line, for scripts.")
    ] = False,
) -> None:
    """The last events of the global log, every stream and tenant (only --tenant's if given)."""
    columns = (*_LOG_COLUMNS, "data") if data else _LOG_COLUMNS
    tenants = _tenants(ctx)
    with backend_of(ctx) as backend:
        with working("reading the log"):
            last = tail(backend, lines, tenants=tenants) if lines else []
        if not follow:
            rows = [_log_row(record, data=data) for record in last]
            if json_output:
                for row in rows:
                    emit_record(row, columns, json_output=True)
            else:
                emit(rows, columns, json_output=False, title="Global log")
            return
        position = last[-1].position if last else backend.event_store.position
        for record in last:
            emit_record(_log_row(record, data=data), columns, json_output=json_output)
        subscriber = backend.subscriber.start_from(position)
        if tenants is not None:
            subscriber = subscriber.in_tenants(*tenants)
        batches = subscriber.build_raw_batch(100, 1.0)
        try:
            for batch in batches:
                for record in batch:
                    emit_record(_log_row(record, data=data), columns, json_output=json_output)
        except KeyboardInterrupt:
            # Ctrl-C is how a follow ends: no traceback, exit code 0.
            return
        finally:
            batches.close()


@app.command("stats")
@handled
def stats(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """How many events, streams, categories, tenants and event types the store holds."""
    with backend_of(ctx) as backend, working("reading the log"):
        found = statistics(walk(backend, tenants=_tenants(ctx)))
    if json_output:
        console().file.write(as_json(found) + "\n")
        return
    rows = [{"what": key, "count": value} for key, value in found.items()]
    emit(rows, ("what", "count"), json_output=False, title="Store")
