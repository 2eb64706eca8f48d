"""``projections list``: each projection's checkpoint and how far behind the log it is."""

from __future__ import annotations

from typing import Annotated

import typer

from event_sourcery_cli._app import app, backend_of, handled
from event_sourcery_cli._output import emit

projections = typer.Typer(help="Projections and their checkpoints.", no_args_is_help=True)
app.add_typer(projections, name="projections")


@projections.command("list")
@handled
def list_projections(
    ctx: typer.Context,
    json_output: Annotated[
        bool, typer.Option("--json", help="One JSON document, for scripts.")
    ] = False,
) -> None:
    """Every projection with its checkpoint and its lag (the log's head minus the checkpoint).

    Lag is in global positions: events on SQL backends, commit positions (bytes) on KurrentDB,
    whose checkpoints may also stand past the last event (0 then).
    """
    with backend_of(ctx) as backend:
        head = backend.event_store.position
        checkpoints = backend.projection_checkpoints()
    rows = [
        {"name": name, "checkpoint": position, "lag": max(head - position, 0), "head": head}
        for name, position in checkpoints.items()
    ]
    emit(rows, ("name", "checkpoint", "lag"), json_output=json_output, title="Projections")
