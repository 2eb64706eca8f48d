"""Column types shared by the models."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from event_sourcery.interfaces import MAX_IDENTIFIER_LENGTH


class LabelField(models.CharField):  # type: ignore[type-arg]
    """A tenant id, category or stream name: up to 255 characters, compared byte-wise.

    MySQL and MariaDB compare text case- and accent-insensitively by default, which would make
    "Acc" and "acc" one stream; their columns get the binary collation of utf8mb4 instead.
    Other databases compare byte-wise already.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_IDENTIFIER_LENGTH)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_length") == MAX_IDENTIFIER_LENGTH:
            del kwargs["max_length"]
        return name, path, args, kwargs

    def db_parameters(self, connection: BaseDatabaseWrapper) -> dict[str, Any]:
        parameters = super().db_parameters(connection)
        if connection.vendor == "mysql":
            parameters["collation"] = "utf8mb4_bin"
        return parameters
