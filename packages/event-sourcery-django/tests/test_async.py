"""`AsyncDjangoBackend` beyond the kit (`es_django_async`), on SQLite."""

from __future__ import annotations

import pytest
from es_django_async import AsyncDjangoChecks
from es_django_kit import DATABASE_ACCESS


@pytest.mark.django_db(**DATABASE_ACCESS)
class TestAsyncSQLite(AsyncDjangoChecks):
    using = "default"
