"""``manage.py event_sourcery_worker``: publish the outbox and run projections until stopped.

```
manage.py event_sourcery_worker --outbox-publisher myapp.bus.publish \
    --projection myapp.projections.balances --projection myapp.projections.statistics
```

SIGTERM or SIGINT (Ctrl-C) stops it after the batch in progress has committed; it exits 0.
"""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS
from django.utils.module_loading import import_string
from event_sourcery import Projector
from event_sourcery.exceptions import EventStoreException

from event_sourcery_django._backend import DjangoBackend
from event_sourcery_django._worker import Worker


def _load(path: str, what: str) -> Any:
    try:
        return import_string(path)
    except ImportError as error:
        raise CommandError(f"cannot import {what} {path!r}: {error}") from error


class Command(BaseCommand):
    help = (
        "Publish Event Sourcery's outbox and keep projections up to date, batch by batch, "
        "until SIGTERM or SIGINT; the batch in progress always commits."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--backend",
            metavar="DOTTED.PATH",
            help="a DjangoBackend (its with_outbox settings apply); default: "
            "DjangoBackend(using=--database)",
        )
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="database alias of the default backend (default: %(default)s)",
        )
        parser.add_argument(
            "--outbox-publisher",
            metavar="DOTTED.PATH",
            help="a callable taking a Recorded event: publishes the outbox through it",
        )
        parser.add_argument(
            "--projection",
            metavar="DOTTED.PATH",
            action="append",
            default=[],
            help="an event_sourcery.Projector to run (repeat for several)",
        )
        parser.add_argument("--batch-size", type=int, default=100, help="events per batch")
        parser.add_argument(
            "--idle-wait", type=float, default=1.0, help="seconds to wait when idle"
        )
        parser.add_argument("--once", action="store_true", help="one round, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        worker = self._worker(options)
        if options["once"]:
            done = worker.run_once()
            self.stdout.write(f"handled {done} events")
            return
        previous = {
            signum: signal.signal(signum, self._stopper(worker))
            for signum in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            worker.run()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self.stdout.write("stopped cleanly")

    def _stopper(self, worker: Worker) -> Any:
        def stop(signum: int, frame: FrameType | None) -> None:
            worker.stop()

        return stop

    def _worker(self, options: dict[str, Any]) -> Worker:
        backend = (
            _load(options["backend"], "backend")
            if options["backend"]
            else DjangoBackend(using=options["database"])
        )
        publisher = None
        if options["outbox_publisher"]:
            publisher = _load(options["outbox_publisher"], "outbox publisher")
            if not callable(publisher):
                raise CommandError(f"{options['outbox_publisher']!r} is not callable")
        projectors = [_load(path, "projection") for path in options["projection"]]
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
