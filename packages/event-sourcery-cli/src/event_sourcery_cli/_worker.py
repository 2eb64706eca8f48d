"""``worker --app module:attr``, and the ``--app`` object ``projections rebuild`` shares.

``--app`` names your application's `event_sourcery.Worker` (``module:attribute``, or a dotted
``module.attribute``), or a callable taking no arguments that returns one, so that importing
the module connects to nothing. The worker holds what the commands need: the backend of the
outbox and its publisher, the projectors (each with its backend and handler), and the unit of
work that makes each batch one transaction. The current folder is importable, as for
``python -m``.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module
from typing import Annotated, Any

import typer
from event_sourcery import Worker
from event_sourcery.exceptions import InvalidInput

from event_sourcery_cli._app import app, handled
from event_sourcery_cli._output import console

AppOption = Annotated[
    str,
    typer.Option(
        "--app",
        help="module:attribute of your event_sourcery.Worker (or of a function returning one).",
    ),
]
#: The loggers whose messages `worker` shows when the application configured no logging.
_LIBRARY_LOGGERS = ("event_sourcery",)


def _find(path: str) -> Any:
    module_name, colon, attribute = path.partition(":")
    if not colon:
        module_name, _, attribute = path.rpartition(".")
    if not module_name or not attribute:
        raise InvalidInput(f"--app {path!r}: give it as module:attribute (myapp.worker:worker)")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        found: Any = import_module(module_name)
    except ImportError as exc:
        raise InvalidInput(f"--app {path!r}: cannot import {module_name!r} ({exc})") from exc
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise InvalidInput(f"--app {path!r}: {module_name!r} has no {attribute!r}") from None
    return found


def load_worker(path: str) -> Worker:
    """The `Worker` that `path` (``module:attribute``) names, or that the callable there makes."""
    found = _find(path)
    if not isinstance(found, Worker) and callable(found):
        found = found()
    if not isinstance(found, Worker):
        raise InvalidInput(
            f"--app {path!r} is a {type(found).__name__}, not an event_sourcery.Worker (or a "
            "function returning one)"
        )
    return found


@contextmanager
def _messages_on_stderr() -> Iterator[None]:
    """The library's log messages on standard error, when the application configured none.

    The library's loggers have a NullHandler (a library must not print); a worker is an
    application, and a failing projection must not go unseen.
    """
    if logging.getLogger().handlers:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    loggers = [logging.getLogger(name) for name in _LIBRARY_LOGGERS]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


@app.command("worker")
@handled
def worker(
    ctx: typer.Context,
    app_path: AppOption,
    once: Annotated[bool, typer.Option("--once", help="One round, then exit.")] = False,
) -> None:
    """Publish the outbox and keep projections up to date until SIGTERM or SIGINT (Ctrl-C).

    Each batch commits before the worker stops; the exit code is then 0.
    """
    running = load_worker(app_path)
    out = console()
    with _messages_on_stderr():
        if once:
            out.file.write(f"handled {running.run_once()} events\n")
            return
        running.run_until_signalled()
    out.file.write("stopped cleanly\n")
