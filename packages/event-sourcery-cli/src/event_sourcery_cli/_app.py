"""The `event-sourcery` command: global options, error handling and exit codes.

Exit codes: 0 success, 1 an error (one line on standard error; the traceback with
``--debug``), 2 a usage error (a bad option or argument, as Click reports it).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, ParamSpec

import typer
from event_sourcery import Backend, EventStoreException

from event_sourcery_cli._connect import open_backend

P = ParamSpec("P")

#: Exit code of a command that failed (a usage error is 2, as Click makes it).
EXIT_ERROR = 1


def _describe(exc: Exception) -> str:
    if isinstance(exc, EventStoreException):
        return str(exc)
    # Not from the library's tree (an OSError, a bug): its type says more than its text alone.
    return f"{type(exc).__name__}: {exc}"


def handled(command: Callable[P, None]) -> Callable[P, None]:
    """`command` with any exception turned into one line on standard error and exit code 1.

    With ``--debug`` the exception goes on, traceback and all. Typer's own exits (a usage
    error, a declined confirmation) pass through untouched. Every command takes the Typer
    context as ``ctx``: the global options are read from it.
    """

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            # Typer hands over its click context, which need not be a `typer.Context`.
            context = kwargs.get("ctx")
            settings = getattr(getattr(context, "find_root", lambda: None)(), "obj", None)
            if not isinstance(settings, Settings) or settings.debug:
                raise
            typer.echo(f"error: {_describe(exc)}", err=True)
            raise typer.Exit(EXIT_ERROR) from None

    return run


@dataclass(frozen=True, slots=True)
class Settings:
    """The global options, kept on the click context for the subcommands."""

    url: str | None
    django_settings: str | None
    tenant: str | None
    debug: bool
    #: ``outbox --outbox-name``: the outbox of a backend that keeps several (KurrentDB).
    outbox_name: str | None = None


@contextmanager
def backend_of(ctx: typer.Context) -> Iterator[Backend]:
    """The backend the global options name, for the length of a ``with`` block.

    Committed (where the backend has transactions) when the block succeeds.
    """
    settings: Settings = ctx.find_root().obj
    with open_backend(
        url=settings.url,
        django_settings=settings.django_settings,
        tenant=settings.tenant,
        outbox_name=settings.outbox_name,
    ) as backend:
        yield backend


def tenant_of(ctx: typer.Context) -> str | None:
    """The ``--tenant`` given, if any."""
    settings: Settings = ctx.find_root().obj
    return settings.tenant


app = typer.Typer(
    name="event-sourcery",
    help="Inspect and operate an Event Sourcery store.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    epilog="Exit codes: 0 success, 1 error, 2 usage error.",
)


@app.callback()
def _root(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option(
            envvar="EVENT_SOURCERY_URL",
            show_envvar=True,
            help="The store: sqlite:///bank.db, postgresql+psycopg://..., mysql+pymysql://..., "
            "kurrentdb://host:2113?Tls=false.",
        ),
    ] = None,
    django_settings: Annotated[
        str | None,
        typer.Option(
            "--django-settings", help="The settings module of a Django project, instead of --url."
        ),
    ] = None,
    tenant: Annotated[
        str | None,
        typer.Option(
            help="Work in this tenant (listings: only its events; default: every tenant)."
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an error.")] = False,
) -> None:
    ctx.obj = Settings(url=url, django_settings=django_settings, tenant=tenant, debug=debug)


def main() -> None:
    """The console script ``event-sourcery``."""
    app()
