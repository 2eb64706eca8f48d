"""``outbox status``, ``outbox dead-letters``, ``outbox retry`` and ``outbox purge``.

Dead letters are entries that failed ``--max-attempts`` times: give the number your workers
use (``with_outbox(max_attempts=...)``, 3 by default), or the command sees other entries.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

import typer
from event_sourcery import OutboxEntry
from event_sourcery.exceptions import InvalidInput

from event_sourcery_cli._app import app, backend_of, handled
from event_sourcery_cli._output import as_json, console, emit

outbox = typer.Typer(help="The transactional outbox and its dead letters.", no_args_is_help=True)
app.add_typer(outbox, name="outbox")


@outbox.callback()
def _outbox(
    ctx: typer.Context,
    outbox_name: Annotated[
        str | None,
        typer.Option(
            "--outbox-name",
            help="The outbox, on KurrentDB, where applications sharing a server keep one each "
            "(KurrentDBBackend(outbox_name=...)); default: the default outbox.",
        ),
    ] = None,
) -> None:
    root = ctx.find_root()
    root.obj = replace(root.obj, outbox_name=outbox_name)


MaxAttempts = Annotated[
    int,
    typer.Option(min=1, help="Failures that make an entry a dead letter (as your workers use)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="One JSON document, for scripts.")]
Ids = Annotated[list[int] | None, typer.Argument(help="Entry ids (default: every dead letter).")]
#: The most dead letters `retry` and `purge` act on without ids.
_PAGE = 1000
_COLUMNS = ("id", "attempts", "last_error", "position", "category", "stream_id", "type")


def _row(entry: OutboxEntry) -> dict[str, Any]:
    raw = entry.record.raw
    return {
        "id": entry.id,
        "attempts": entry.attempts,
        "last_error": entry.last_error,
        "position": entry.record.position,
        "tenant": entry.record.tenant_id,
        "category": raw.stream_id.category,
        "stream_id": str(raw.stream_id.uuid),
        "type": raw.type,
        "created_at": raw.created_at.isoformat(),
    }


@outbox.command("dead-letters")
@handled
def dead_letters(
    ctx: typer.Context,
    max_attempts: MaxAttempts = 3,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, oldest first.")] = 100,
    json_output: JsonOption = False,
) -> None:
    """The entries whose publication failed --max-attempts times, oldest first."""
    with backend_of(ctx) as backend:
        entries = backend.with_outbox(max_attempts=max_attempts).outbox.dead_letters(limit)
    emit(
        [_row(entry) for entry in entries], _COLUMNS, json_output=json_output, title="Dead letters"
    )


@outbox.command("status")
@handled
def status(
    ctx: typer.Context, max_attempts: MaxAttempts = 3, json_output: JsonOption = False
) -> None:
    """How many entries wait for publication, how many are dead letters, and the oldest one."""
    with backend_of(ctx) as backend:
        box = backend.with_outbox(max_attempts=max_attempts).outbox
        counts = box.counts()
        oldest = box.dead_letters(1)
    found = {**counts, "oldest_dead_letter": _row(oldest[0]) if oldest else None}
    if json_output:
        console().file.write(as_json(found) + "\n")
        return
    described = f" (oldest: entry {oldest[0].id}, {oldest[0].last_error})" if oldest else ""
    console().file.write(
        f"pending: {counts['pending']}\ndead letters: {counts['dead_letters']}{described}\n"
    )


def _chosen(ids: list[int] | None, entries: list[OutboxEntry]) -> list[int]:
    if ids:
        return list(ids)
    return [entry.id for entry in entries]


@outbox.command("retry")
@handled
def retry(ctx: typer.Context, ids: Ids = None, max_attempts: MaxAttempts = 3) -> None:
    """Give entries (default: every dead letter) a fresh set of attempts."""
    with backend_of(ctx) as backend:
        box = backend.with_outbox(max_attempts=max_attempts).outbox
        chosen = _chosen(ids, [] if ids else box.dead_letters(_PAGE))
        if chosen:
            box.retry(*chosen)
    console().file.write(f"retried {len(chosen)} entries\n")


@outbox.command("purge")
@handled
def purge(
    ctx: typer.Context,
    ids: Ids = None,
    max_attempts: MaxAttempts = 3,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove entries (default: every dead letter) for good, without publishing them."""
    with backend_of(ctx) as backend:
        box = backend.with_outbox(max_attempts=max_attempts).outbox
        chosen = _chosen(ids, [] if ids else box.dead_letters(_PAGE))
        if not chosen:
            console().file.write("nothing to purge\n")
            return
        if not yes and not typer.confirm(
            f"Remove {len(chosen)} outbox entries for good, unpublished?", err=True
        ):
            raise InvalidInput("purge cancelled: nothing was removed")
        box.purge(*chosen)
    console().file.write(f"purged {len(chosen)} entries\n")
