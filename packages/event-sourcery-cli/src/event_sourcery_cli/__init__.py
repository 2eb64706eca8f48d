"""The `event-sourcery` command line: inspect and operate an Event Sourcery store.

```
event-sourcery --url sqlite:///bank.db streams list
event-sourcery --url kurrentdb://localhost:2113?Tls=false log tail --follow
```

Backends are found through the entry point group ``event_sourcery.backends`` (`GROUP`),
keyed by URL scheme: each backend distribution registers a `BackendOpener` there.
"""

from event_sourcery_cli import (  # noqa: F401 - they register commands
    _copying,
    _outbox,
    _projections,
    _streams,
    _worker,
)
from event_sourcery_cli._app import app, main
from event_sourcery_cli._connect import GROUP, BackendOpener

__all__ = ["GROUP", "BackendOpener", "app", "main"]
