"""Django settings of the package's tests; mypy's django-stubs plugin reads them too.

The test database is a SQLite file (made per test run and xdist worker by pytest-django), in
WAL mode, so that the subscription cursors' own connections read while a test writes.
"""

from __future__ import annotations

from typing import Any

SECRET_KEY = "event-sourcery-django-tests"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "event_sourcery_django",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
ROOT_URLCONF = "event_sourcery_django_tests_urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DATABASES: dict[str, dict[str, Any]] = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": "event_sourcery_django_tests.sqlite3",
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;"},
    }
}


def configure(databases: dict[str, dict[str, Any]] | None = None) -> None:
    """Configure Django with these settings, once per process; add the aliases `databases`.

    pytest-django sets Django up once per process, and one run can hold both the package's
    tests and the integration suite: whichever comes first configures Django, the other only
    adds its database aliases (before any test database is made).
    """
    import tempfile
    import uuid
    from pathlib import Path

    from django.conf import settings

    if not settings.configured:
        values = {name: value for name, value in globals().items() if name.isupper()}
        default = {**DATABASES["default"]}
        # A file, not SQLite's shared in-memory database: cursors read on connections of
        # their own while a test writes. pytest-django appends the xdist worker's name.
        default["TEST"] = {
            "NAME": str(Path(tempfile.gettempdir()) / f"es_django_{uuid.uuid4().hex}.sqlite3")
        }
        values["DATABASES"] = {"default": default}
        settings.configure(**values)
    added = {a: c for a, c in (databases or {}).items() if a not in settings.DATABASES}
    if added:
        from django.db import connections

        settings.DATABASES.update(added)
        connections.configure_settings(settings.DATABASES)

    import django

    django.setup()
