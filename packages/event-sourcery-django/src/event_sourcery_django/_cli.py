"""The `event-sourcery` command line's way in: a backend of a Django project.

Registered in this distribution's ``pyproject.toml`` under the entry point group
``event_sourcery.backends`` as ``django``: ``event-sourcery --django-settings mysite.settings``
calls `open_settings` with the settings module.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager

import django
from django.db import transaction
from event_sourcery import Backend
from event_sourcery.exceptions import InvalidInput

from event_sourcery_django._errors import DATABASE_ERRORS, translate


@contextmanager
def open_settings(settings_module: str) -> Iterator[Backend]:
    """A backend on the default database of `settings_module`, in one transaction.

    Raises:
        InvalidInput: the settings module cannot be imported.
    """
    try:
        importlib.import_module(settings_module)
    except ImportError as exc:
        raise InvalidInput(
            f"cannot import the Django settings module {settings_module!r} ({exc}); "
            "run from your project's folder or put it on PYTHONPATH"
        ) from exc
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    django.setup()
    # Imported after setup: the backend's module imports the app's models.
    from event_sourcery_django._backend import DjangoBackend

    try:
        with transaction.atomic():
            yield DjangoBackend()
    except DATABASE_ERRORS as exc:
        raise translate(exc, "running the command") from exc
