"""``projections list`` (checkpoints and lag) and ``projections rebuild`` (from the start)."""

from __future__ import annotations

from typing import Annotated

import typer
from event_sourcery import Projector, Worker
from event_sourcery.exceptions import InvalidInput

from event_sourcery_cli._app import app, backend_of, handled
from event_sourcery_cli._output import console, emit
from event_sourcery_cli._progress import reporting
from event_sourcery_cli._worker import AppOption, load_worker

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


def _start(worker: Worker, projector: Projector, *, resume: bool) -> tuple[int, int]:
    """The checkpoint to start from (0 unless resuming) and the log's head, committed."""
    with worker.unit_of_work(projector.backend):
        if not resume:
            projector.reset()
        return projector.position, projector.backend.event_store.position


def _catch_up(worker: Worker, projector: Projector, start: int, head: int, batch: int) -> int:
    """Run `projector` from `start` up to `head`, a batch per transaction, with progress."""
    position = start
    with reporting(f"rebuilding {projector.name}", head - start) as reporter:
        while position < head:
            with worker.unit_of_work(projector.backend):
                applied = projector.run_once(batch)
                reached = projector.position
            reporter.advance(applied, reached - start)
            if applied == 0 and reached == position:
                break  # a checkpoint of KurrentDB may stop short of a head with no event
            position = reached
        return reporter.events


@projections.command("rebuild")
@handled
def rebuild(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The projection's name.")],
    app_path: AppOption,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Continue an interrupted rebuild from its checkpoint."),
    ] = False,
    batch_size: Annotated[int, typer.Option(min=1, help="Events per transaction.")] = 1000,
) -> None:
    """Apply the whole log again to a projection of your --app: reset, then catch up.

    The reset calls the projector's on_reset (clear the read model there) and sets the
    checkpoint to 0; each batch then commits with the checkpoint. Interrupted (Ctrl-C, a
    crash), `--resume` continues from the last committed batch instead of starting over.
    """
    worker = load_worker(app_path)
    projector = worker.projector(name)
    start, head = _start(worker, projector, resume=resume)
    try:
        applied = _catch_up(worker, projector, start, head, batch_size)
    except KeyboardInterrupt:
        raise InvalidInput(
            f"rebuild of {name!r} interrupted; add --resume to continue from its checkpoint"
        ) from None
    console().file.write(f"rebuilt {name}: {applied} events applied\n")
