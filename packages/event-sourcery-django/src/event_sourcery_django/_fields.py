"""Column types shared by the models."""

from __future__ import annotations

from typing import Any, Final

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from event_sourcery.interfaces import MAX_IDENTIFIER_LENGTH

#: MariaDB's collation for the columns the store compares for identity. Binary, so case and
#: accents count, and NO PAD: utf8mb4_bin pads with spaces, which made "Deposited " equal
#: "Deposited" in the event-type filter. Other databases compare byte-wise already.
MARIADB_EXACT_COLLATION: Final = "utf8mb4_nopad_bin"


class ExactCharField(models.CharField):  # type: ignore[type-arg]
    """Text the store compares for identity (event types): equal only if byte-for-byte equal.

    MySQL and MariaDB compare text case- and accent-insensitively by default, and pad it with
    spaces, which would make "Deposited", "deposited" and "Deposited " one event type; their
    columns get `MARIADB_EXACT_COLLATION` instead.
    """

    def db_parameters(self, connection: BaseDatabaseWrapper) -> dict[str, Any]:
        parameters = super().db_parameters(connection)
        if connection.vendor == "mysql":
            parameters["collation"] = MARIADB_EXACT_COLLATION
        return parameters


class LabelField(ExactCharField):
    """A tenant id, category or stream name: up to 255 characters, compared exactly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_IDENTIFIER_LENGTH)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_length") == MAX_IDENTIFIER_LENGTH:
            del kwargs["max_length"]
        return name, path, args, kwargs
