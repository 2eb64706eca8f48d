"""What the tests of the repository's tools share."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest


@pytest.fixture(scope="module")
def tool(request: pytest.FixtureRequest) -> ModuleType:
    """The tool a test module tests (`tools/x.py` for `tools/test_x.py`), imported by path.

    tools/ is not a package, and its scripts are run as files, not imported by name.
    """
    name = request.path.stem.removeprefix("test_")
    spec = importlib.util.spec_from_file_location(
        f"_es_{name}", request.path.with_name(f"{name}.py")
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
