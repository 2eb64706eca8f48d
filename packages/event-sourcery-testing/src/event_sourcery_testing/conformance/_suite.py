"""Placeholder, filled in by the kit's author."""

from __future__ import annotations

from typing import ClassVar

import pytest

from event_sourcery import Backend
from event_sourcery_testing.conformance._capabilities import Capabilities


class BackendConformance:
    """Base of a backend's conformance tests; subclasses provide the `backend` fixture."""

    capabilities: ClassVar[Capabilities] = Capabilities()

    @pytest.fixture
    def backend(self) -> Backend:
        raise NotImplementedError("a conformance subclass must override the `backend` fixture")
