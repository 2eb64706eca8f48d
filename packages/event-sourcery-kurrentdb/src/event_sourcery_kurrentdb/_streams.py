"""Stream names: how stream identities, tenants and this backend's own records map onto KurrentDB.

KurrentDB knows a stream only by its name, and its by-category conventions (`$ce-<category>`,
stream-name filters) take the part of a name before the first ``-`` as its category. So:

```
{category}-{uuid hex}                  a stream of a category, default tenant
{category}-{uuid hex}@{tenant}         ... of a tenant
{uuid hex}  /  {uuid hex}@{tenant}     a stream without category: no '-', so no KurrentDB category
es$snapshot-{stream name}              the stream's snapshots (the newest event counts)
es$name-{sha256 of tenant, category, name}        which uuid a stream name is bound to
es$checkpoint-{projection}             a projection's checkpoint
es$outbox-{outbox} / es$outboxstate-{outbox}      outbox entries / who claimed, failed, published
```

Categories and tenants are escaped so that they can never break that shape: ``%`` becomes
``%25``, ``-`` ``%2D`` and ``$`` ``%24``. Hence the category KurrentDB sees is exactly ours
(escaped), a tenant can never move the category boundary, no name of ours starts with ``$`` (a
system stream, admins only), and ``es$...`` can never be a user category: names of the backend's
own streams and user streams never collide.
"""

from __future__ import annotations

import hashlib
import json
import re
from uuid import UUID

from event_sourcery import StreamId

_ESCAPES = {"%": "%25", "-": "%2D", "$": "%24"}
_ESCAPED = re.compile("|".join(re.escape(code) for code in _ESCAPES.values()))
_UNESCAPE = {code: char for char, code in _ESCAPES.items()}
_HEX = re.compile(r"[0-9a-f]{32}")

#: Prefix of the backend's own streams; `$` never appears unescaped in a user category.
INTERNAL_PREFIX = "es$"

#: Matches the name of every user stream (server-side filters; .NET and Python regex alike).
USER_STREAMS_REGEX = r"(?:[^-$]+-)?[0-9a-f]{32}(?:@.*)?"


def escape(label: str) -> str:
    """`label` (a category or tenant) with ``%``, ``-`` and ``$`` escaped."""
    return "".join(_ESCAPES.get(char, char) for char in label)


def unescape(text: str) -> str | None:
    """The label `text` was escaped from; None if `text` is not an escaped label."""
    if "-" in text or "$" in text or "%" in _ESCAPED.sub("", text):
        return None
    return _ESCAPED.sub(lambda match: _UNESCAPE[match.group()], text)


def stream_name(stream_id: StreamId, tenant_id: str | None) -> str:
    """The KurrentDB stream holding `stream_id`'s events in `tenant_id`."""
    name = stream_id.hex
    if stream_id.category is not None:
        name = f"{escape(stream_id.category)}-{name}"
    if tenant_id is not None:
        name = f"{name}@{escape(tenant_id)}"
    return name


def parse_stream_name(name: str) -> tuple[str | None, UUID, str | None] | None:
    """(category, uuid, tenant) of a user stream; None for any other stream."""
    head, dash, rest = name.partition("-")
    category: str | None = None
    if dash:
        category = unescape(head)
        if category is None or not category:
            return None
    else:
        rest = name
    if not _HEX.fullmatch(rest[:32]):
        return None
    tail = rest[32:]
    tenant: str | None = None
    if tail:
        if tail[0] != "@" or len(tail) == 1:
            return None
        tenant = unescape(tail[1:])
        if tenant is None:
            return None
    return category, UUID(hex=rest[:32]), tenant


def metastream(stream: str) -> str:
    """The KurrentDB stream holding `stream`'s metadata (a soft delete's `$tb` among it)."""
    return f"$${stream}"


def snapshot_stream(user_stream: str) -> str:
    """The stream of `user_stream`'s snapshots."""
    return f"{INTERNAL_PREFIX}snapshot-{user_stream}"


def name_stream(tenant_id: str | None, category: str | None, name: str) -> str:
    """The stream binding `name` to one uuid in (tenant, category)."""
    # A digest: the three parts may be 255 characters each; JSON keeps them apart unambiguously.
    key = json.dumps([tenant_id, category, name]).encode()
    return f"{INTERNAL_PREFIX}name-{hashlib.sha256(key).hexdigest()}"


#: Start of the name of every projection's checkpoint stream.
CHECKPOINT_PREFIX = f"{INTERNAL_PREFIX}checkpoint-"


def checkpoint_stream(name: str) -> str:
    """The stream of projection `name`'s checkpoints."""
    return f"{CHECKPOINT_PREFIX}{escape(name)}"


def outbox_streams(outbox_name: str) -> tuple[str, str]:
    """The (entries, state) streams of the outbox `outbox_name`."""
    escaped = escape(outbox_name)
    return f"{INTERNAL_PREFIX}outbox-{escaped}", f"{INTERNAL_PREFIX}outboxstate-{escaped}"


def _tenants_tail(tenants: frozenset[str | None] | None) -> str:
    if tenants is None:
        return "(?:@.*)?"
    alternatives = sorted("" if t is None else "@" + re.escape(escape(t)) for t in tenants)
    return "(?:" + "|".join(alternatives) + ")" if alternatives else "(?!)"


def user_streams_regex(
    categories: frozenset[str] | None = None, tenants: frozenset[str | None] | None = None
) -> str:
    """Matches the user streams of these categories and tenants (None: any)."""
    if categories is None:
        head = "(?:[^-$]+-)?"
    else:
        head = "(?:" + "|".join(sorted(re.escape(escape(c)) for c in categories)) + ")-"
    return f"{head}[0-9a-f]{{32}}{_tenants_tail(tenants)}"


def categories_regex(categories: frozenset[str]) -> str:
    """Matches the user streams of these categories (any tenant)."""
    return user_streams_regex(categories)


def event_types_regex(event_types: frozenset[str]) -> str:
    """Matches these event types exactly."""
    return "(?:" + "|".join(sorted(re.escape(name) for name in event_types)) + ")"
