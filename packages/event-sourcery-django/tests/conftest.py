"""The package's tests run on SQLite, in a Django configured by `es_django_settings`."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest


def load(name: str) -> ModuleType:
    """This folder's module `name`, by path (the folder is not importable in importlib mode)."""
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


def pytest_configure(config: pytest.Config) -> None:
    load("es_django_settings").configure()
    load("es_django_kit")
    load("es_django_async")
    load("event_sourcery_django_tests_urls")  # settings.ROOT_URLCONF
