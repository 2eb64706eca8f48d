"""docs/asyncio.md calls every public method of the asyncio API.

Its blocks are executed (`test_docs.py`) and checked with ``mypy --strict`` as user code
(`tools/typecheck_docs.py`), so a method the page calls is one whose annotations work for
users: a typed load is typed, a batch is a list of records, an ``async with`` gives the
wrapped aggregate. This test keeps that true as the API grows: a new public method of
`AsyncEventStore`, `AsyncSubscriber`, `AsyncRepository` or `AsyncBackend` fails here until the
page shows it in use.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from event_sourcery import AsyncBackend, AsyncEventStore, AsyncSubscriber
from event_sourcery._subscription import SubscriberBase
from event_sourcery.event_sourcing import AsyncRepository

PAGE = Path(__file__).resolve().parents[1] / "docs" / "asyncio.md"

#: Public names of those classes that user code has no reason to call.
_NOT_FOR_USERS = {
    "subscription_filter",  # what a subscription strategy is handed, for backend authors
}


def _public_api() -> set[str]:
    classes = (AsyncEventStore, AsyncSubscriber, SubscriberBase, AsyncRepository, AsyncBackend)
    names = {name for cls in classes for name in vars(cls) if not name.startswith("_")}
    return names - _NOT_FOR_USERS


def _attributes_used(markdown: Path) -> set[str]:
    blocks = re.findall(r"^```python\n(.*?)^```", markdown.read_text("utf-8"), re.M | re.S)
    tree = ast.parse("\n".join(blocks))
    return {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}


def test_the_page_uses_every_public_method_of_the_asyncio_api() -> None:
    missing = _public_api() - _attributes_used(PAGE)
    assert not missing, f"docs/asyncio.md shows no use of {sorted(missing)}"


def test_the_check_sees_what_the_page_calls() -> None:
    used = _attributes_used(PAGE)
    assert {"append", "build_iter", "aggregate"} <= used
    assert "never_called_anywhere" not in used
