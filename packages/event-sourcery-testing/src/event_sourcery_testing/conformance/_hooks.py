"""What a conformance subclass may provide besides the `backend` fixture."""

from __future__ import annotations

from typing import ClassVar

from event_sourcery import Backend

from event_sourcery_testing.conformance._capabilities import Capabilities


class Hooks:
    """Overridable hooks and the backend's declared capabilities."""

    capabilities: ClassVar[Capabilities] = Capabilities()

    def commit(self, backend: Backend) -> None:
        """Make the backend's writes durable and visible to readers on other connections.

        The default does nothing, which fits a backend without transactions.
        """

    def rollback(self, backend: Backend) -> None:
        """Discard the backend's uncommitted writes (only called with `transactions`)."""
