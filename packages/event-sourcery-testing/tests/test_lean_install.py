"""A bare `pip install event-sourcery-testing` brings no cipher library, and the kit still runs.

Users who only want `InMemoryBackend` in their unit tests should not get `cryptography` (and its
`cffi` and `pycparser`); the encryption part of the conformance kit is behind the `encryption`
extra instead.
"""

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

pytest_plugins = ["pytester"]

_PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_bare_install_does_not_require_a_cipher_library() -> None:
    project = tomllib.loads(_PYPROJECT.read_text(encoding="utf-8"))["project"]
    pulled = [
        line
        for line in project["dependencies"]
        if "encryption" in Requirement(line).extras or Requirement(line).name == "cryptography"
    ]
    assert pulled == []
    assert project["optional-dependencies"]["encryption"] == ["event-sourcery[encryption]"]


def test_in_memory_backend_and_kit_run_without_cryptography(pytester: pytest.Pytester) -> None:
    # In a subprocess, so that the `cryptography` this workspace has is truly out of reach.
    pytester.makeconftest(
        """
        import sys

        sys.modules["cryptography"] = None  # what `import cryptography` sees when not installed
        """
    )
    pytester.makepyfile(
        """
        import pytest

        from event_sourcery import Backend, Event, StreamId
        from event_sourcery_testing import InMemoryBackend
        from event_sourcery_testing.conformance import BackendConformance, Capabilities


        class Opened(Event):
            owner: str


        def test_in_memory_backend_needs_no_cipher():
            store = InMemoryBackend().event_store
            store.append(Opened(owner="ann"), stream_id=StreamId())


        class TestKit(BackendConformance):
            capabilities = Capabilities(transactions=False)

            @pytest.fixture
            def backend(self) -> Backend:
                return InMemoryBackend()
        """
    )
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "-rs",
        "-vv",  # the skip reasons in full, not cut at the terminal's width
        "-k",
        "needs_no_cipher or encrypt or decrypt or shred or keys",
    )
    result.assert_outcomes(passed=1, skipped=7)
    assert "pip install 'event-sourcery-testing[encryption]'" in result.stdout.str()
