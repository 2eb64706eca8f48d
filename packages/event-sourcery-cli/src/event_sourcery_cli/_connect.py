"""Finding a backend for a URL among the installed distributions (entry points).

Each backend distribution registers, in the entry point group `GROUP`, one callable per URL
scheme it serves: it takes the URL (or, for ``django``, the settings module) and returns a
context manager that yields a `Backend` and commits (or closes) when the block ends. The
command line imports no backend, so a third-party backend plugs in the same way.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from importlib.metadata import entry_points

from event_sourcery import Backend
from event_sourcery.exceptions import InvalidInput

#: The entry point group backends register in, keyed by URL scheme (``django`` for Django).
GROUP = "event_sourcery.backends"

#: What a backend registers: the URL in, a backend for the length of a ``with`` block out.
BackendOpener = Callable[[str], AbstractContextManager[Backend]]


def opener_for(scheme: str) -> BackendOpener:
    """The registered opener of `scheme`; ``postgresql+psycopg`` falls back to ``postgresql``.

    Raises:
        InvalidInput: no installed distribution serves the scheme (the message lists those
            that are served).
    """
    points = {point.name: point for point in entry_points(group=GROUP)}
    scheme = scheme.lower()
    point = points.get(scheme) or points.get(scheme.partition("+")[0])
    if point is None:
        served = ", ".join(sorted(points)) or "none"
        raise InvalidInput(
            f"no installed backend serves URL scheme {scheme!r} (served: {served}); install "
            "the backend distribution, e.g. event-sourcery-sqlalchemy for sqlite, postgresql "
            "and mysql, event-sourcery-kurrentdb for kurrentdb"
        )
    opener: BackendOpener = point.load()
    return opener


def open_store(store: str) -> AbstractContextManager[Backend]:
    """The backend of `store`: a URL, or ``django:SETTINGS_MODULE`` for a Django project.

    For the commands that take a store as an argument (``copy --from ... --to ...``).
    """
    scheme, separator, rest = store.partition(":")
    if separator and scheme == "django":
        return open_backend(url=None, django_settings=rest, tenant=None)
    return open_backend(url=store, django_settings=None, tenant=None)


def _with_options(opener: BackendOpener, outbox_name: str | None) -> BackendOpener:
    """`opener`, given the options the user chose; an opener takes those it serves as keywords.

    Raises:
        InvalidInput: the backend does not serve an option given (only KurrentDB has named
            outboxes).
    """
    if outbox_name is None:
        return opener
    if "outbox_name" not in inspect.signature(opener).parameters:
        raise InvalidInput(
            "--outbox-name: this store has one outbox, with no name (KurrentDB has named ones)"
        )
    options: dict[str, object] = {"outbox_name": outbox_name}
    return functools.partial(opener, **options)


@contextmanager
def open_backend(
    *,
    url: str | None,
    django_settings: str | None,
    tenant: str | None,
    outbox_name: str | None = None,
) -> Iterator[Backend]:
    """The backend of `url` (or of the Django project), scoped to `tenant` if given.

    `outbox_name` names the outbox on backends that keep several (KurrentDB).
    """
    if url is not None and django_settings is not None:
        raise InvalidInput("give either --url or --django-settings, not both")
    if django_settings is not None:
        opener, target = opener_for("django"), django_settings
    elif url is not None:
        scheme, separator, _ = url.partition(":")
        if not separator or not scheme:
            # Not quoted: a URL may hold a password.
            raise InvalidInput(
                "the URL has no scheme; it looks like sqlite:///bank.db, "
                "postgresql+psycopg://user@host/db or kurrentdb://host:2113?Tls=false"
            )
        opener, target = opener_for(scheme), url
    else:
        raise InvalidInput(
            "no store given: pass --url URL (or set EVENT_SOURCERY_URL) or --django-settings"
        )
    with _with_options(opener, outbox_name)(target) as backend:
        yield backend if tenant is None else backend.in_tenant_mode(tenant)
