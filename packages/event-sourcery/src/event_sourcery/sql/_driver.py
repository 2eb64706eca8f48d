"""The base of a backend's driver: runs the core's protocols on the backend's connection."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from event_sourcery.sql._flavour import Flavour
from event_sourcery.sql._protocol import Protocol

T = TypeVar("T")
P = ParamSpec("P")


class Driver(ABC):
    """What a backend's strategies inherit to run protocols: it supplies `_drive` only."""

    def _run(
        self,
        action: str,
        protocol: Callable[Concatenate[Flavour, P], Protocol[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """``protocol(flavour, *args, **kwargs)`` driven to its result; a database error
        becomes the store's, described as `action` (see `SQLErrors.translate`)."""
        return self._drive(action, False, lambda flavour: protocol(flavour, *args, **kwargs))

    def _write(
        self,
        action: str,
        protocol: Callable[Concatenate[Flavour, P], Protocol[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """`_run` for a protocol that writes events (snapshots and outbox entries too)."""
        return self._drive(action, True, lambda flavour: protocol(flavour, *args, **kwargs))

    @abstractmethod
    def _drive(
        self, action: str, writing_events: bool, protocol: Callable[[Flavour], Protocol[T]]
    ) -> T:
        """Run ``protocol(flavour)`` with `drive` (or `drive_async`) on the backend's
        connection, in its current transaction; translate database errors for `action`."""
