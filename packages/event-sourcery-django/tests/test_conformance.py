"""The conformance kit on SQLite, through Django's connection and transactions, in sync and
asyncio mode (`AsyncDjangoBackend`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from es_django_kit import (
    DATABASE_ACCESS,
    AsyncDjangoConformance,
    DjangoConformance,
    in_transaction,
)
from event_sourcery import Backend


@pytest.mark.django_db(**DATABASE_ACCESS)
class TestSQLite(DjangoConformance):
    @pytest.fixture
    def backend(self) -> Iterator[Backend]:
        yield from in_transaction(self, "default")


@pytest.mark.django_db(**DATABASE_ACCESS)
class TestAsyncSQLite(AsyncDjangoConformance):
    using = "default"
