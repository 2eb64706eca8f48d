"""``manage.py event_sourcery_worker``: publish the outbox and run projections until stopped.

```
manage.py event_sourcery_worker --outbox-publisher myapp.bus:publish \
    --projection myapp.projections.balances --projection myapp.projections.statistics
```

SIGTERM or SIGINT (Ctrl-C) stops it after the batch in progress has committed; it exits 0.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module
from importlib.util import find_spec
from types import ModuleType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS
from django.utils.module_loading import import_string
from event_sourcery import Projector
from event_sourcery.exceptions import EventStoreException

from event_sourcery_django._backend import DjangoBackend
from event_sourcery_django._worker import Worker

#: The loggers whose warnings this command shows when the project configured no logging.
_LIBRARY_LOGGERS = ("event_sourcery", "event_sourcery_django")


def _import(path: str) -> Any:
    """The object `path` names: ``module:attribute`` or a dotted ``module.attribute``."""
    if ":" in path:
        module_name, _, attribute = path.partition(":")
        found: Any = import_module(module_name)
        for part in attribute.split("."):
            try:
                found = getattr(found, part)
            except AttributeError as error:
                raise ImportError(f"{module_name!r} has no attribute {attribute!r}") from error
        return found
    try:
        return import_string(path)
    except ImportError:
        # Django's message for a module ("... doesn't look like a module path", or "Module
        # 'bank' does not define a 'bus' attribute") hides that a module is not what is wanted.
        if _find_spec_quietly(path):
            return import_module(path)
        raise


def _find_spec_quietly(path: str) -> bool:
    """Whether `path` names an importable module (its parent packages are imported)."""
    try:
        return find_spec(path) is not None
    except (ImportError, ValueError):
        return False


def _load(path: str, what: str, expected: str) -> Any:
    """Import what `path` names; a `CommandError` saying what was `expected` otherwise."""
    forms = f"give it as 'module:name' or 'package.module.name' ({expected})"
    try:
        found = _import(path)
    except ImportError as error:
        raise CommandError(f"cannot import {what} {path!r}: {error}; {forms}") from error
    if isinstance(found, ModuleType):
        raise CommandError(
            f"{what} {path!r} is a module, not {expected}: name the object in it; {forms}"
        )
    return found


class Command(BaseCommand):
    help = (
        "Publish Event Sourcery's outbox and keep projections up to date, batch by batch, "
        "until SIGTERM or SIGINT; the batch in progress always commits."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--backend",
            metavar="PATH",
            help="module:name (or module.name) of a DjangoBackend (its with_outbox settings "
            "apply); default: "
            "DjangoBackend(using=--database)",
        )
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="database alias of the default backend (default: %(default)s)",
        )
        parser.add_argument(
            "--outbox-publisher",
            metavar="PATH",
            help="module:name (or module.name) of a callable taking a Recorded event: "
            "publishes the outbox through it",
        )
        parser.add_argument(
            "--projection",
            metavar="PATH",
            action="append",
            default=[],
            help="module:name (or module.name) of an event_sourcery.Projector to run (repeat "
            "for several)",
        )
        parser.add_argument("--batch-size", type=int, default=100, help="events per batch")
        parser.add_argument(
            "--idle-wait", type=float, default=1.0, help="seconds to wait when idle"
        )
        parser.add_argument("--once", action="store_true", help="one round, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        with self._warnings_on_stderr():
            self._handle(options)

    @contextmanager
    def _warnings_on_stderr(self) -> Iterator[None]:
        """Show the library's warnings on stderr when the project configured no logging.

        The library's loggers have a NullHandler (a library must not print), so a failing
        projection would go unseen in a worker whose project has no root handler. This command
        is an application, which may choose: it adds a stderr handler, as Python's last resort
        would have, for its own run only.
        """
        if logging.getLogger().handlers:
            yield
            return
        handler = logging.StreamHandler(self.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        library = [logging.getLogger(name) for name in _LIBRARY_LOGGERS]
        for logger in library:
            logger.addHandler(handler)
        try:
            yield
        finally:
            for logger in library:
                logger.removeHandler(handler)

    def _handle(self, options: dict[str, Any]) -> None:
        worker = self._worker(options)
        if options["once"]:
            done = worker.run_once()
            self.stdout.write(f"handled {done} events")
            return
        worker.run_until_signalled()
        self.stdout.write("stopped cleanly")

    def _worker(self, options: dict[str, Any]) -> Worker:
        backend = (
            _load(options["backend"], "backend", "a DjangoBackend")
            if options["backend"]
            else DjangoBackend(using=options["database"])
        )
        publisher = None
        if options["outbox_publisher"]:
            publisher = _load(
                options["outbox_publisher"], "outbox publisher", "a callable taking a Recorded"
            )
            if not callable(publisher):
                raise CommandError(
                    f"outbox publisher {options['outbox_publisher']!r} is not callable: name a "
                    "function (or other callable) taking a Recorded event"
                )
        projectors = [
            _load(path, "projection", "an event_sourcery.Projector")
            for path in options["projection"]
        ]
        for path, projector in zip(options["projection"], projectors, strict=True):
            if not isinstance(projector, Projector):
                raise CommandError(f"{path!r} is not an event_sourcery.Projector")
        if publisher is None and not projectors:
            raise CommandError("nothing to do: give --outbox-publisher and/or --projection")
        try:
            return Worker(
                backend,
                publisher=publisher,
                projectors=projectors,
                batch_size=options["batch_size"],
                idle_wait=options["idle_wait"],
            )
        except EventStoreException as error:
            raise CommandError(str(error)) from error
