"""``copy --from STORE --to STORE [--verify]``: move a whole store to another backend."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import typer
from event_sourcery.exceptions import InvalidInput

from event_sourcery_cli._app import EXIT_ERROR, app, handled
from event_sourcery_cli._connect import open_store
from event_sourcery_cli._copy import Copier, checkpoint_name, differences, fingerprint
from event_sourcery_cli._output import console, working
from event_sourcery_cli._progress import reporting

Store = Annotated[
    str,
    typer.Option(
        help="A store: a URL as --url takes it, or django:SETTINGS_MODULE for a Django project."
    ),
]


def _verify(source: str, target: str) -> None:
    """Compare both stores; exit 1 (after saying what differs) if they do."""
    with working("verifying"), open_store(source) as backend:
        expected = fingerprint(backend)
    with working("verifying"), open_store(target) as backend:
        found = fingerprint(backend)
    problems = differences(expected, found)
    out = console()
    if problems:
        for problem in problems:
            typer.echo(f"verify: {problem}", err=True)
        raise typer.Exit(EXIT_ERROR)
    out.file.write(f"verified: {found.events} events in {len(found.streams)} streams, identical\n")


@app.command("copy")
@handled
def copy(
    ctx: typer.Context,
    source: Annotated[str, typer.Option("--from", help="The store to copy (read only).")],
    target: Annotated[
        str, typer.Option("--to", help="The store to copy into (its tables must exist).")
    ],
    verify: Annotated[
        bool, typer.Option("--verify", help="Then compare both stores; exit 1 if they differ.")
    ] = False,
    chunk: Annotated[
        int, typer.Option(min=1, help="Events per transaction of the target (the resume step).")
    ] = 10_000,
) -> None:
    """Copy every event of every stream and tenant, as stored and in the log's order.

    Interrupted, run it again: it resumes after the last chunk committed (a checkpoint named
    after the source, kept in the target). Run again later, it copies what was appended since.
    Stores are given as URLs (or django:SETTINGS_MODULE); snapshots, the outbox and
    projection checkpoints are not copied.
    """
    if source == target:
        raise InvalidInput("--from and --to name the same store")
    with open_store(source) as backend:
        copier = Copier(backend, partial(open_store, target), checkpoint_name(source), chunk)
        start = copier.resume_point()
        head = backend.event_store.position
        with reporting("copying", head - start) as reporter:
            copied = copier.run(
                start, head, lambda n, reached: reporter.advance(n, reached - start)
            )
    resumed = f" (resumed after position {start})" if start else ""
    console().file.write(f"copied {copied} events{resumed}\n")
    if verify:
        _verify(source, target)
