"""Validation of identifiers shared by every backend (no I/O: it works for any driver)."""

from __future__ import annotations

import re

from event_sourcery.exceptions import InvalidEvent, InvalidStreamId, InvalidTenantId

#: Longest stream name, category, tenant id or event type name any backend must store.
#: 255 fits an indexed VARCHAR on MariaDB's utf8mb4 and KurrentDB stream names comfortably.
MAX_IDENTIFIER_LENGTH = 255

_CONTROL = re.compile("[\x00-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _problem(value: object, what: str) -> str | None:
    if not isinstance(value, str):
        return f"{what} must be a str, got {type(value).__name__}"
    if not value:
        return f"{what} must not be empty"
    if len(value) > MAX_IDENTIFIER_LENGTH:
        return f"{what} is {len(value)} characters long; at most {MAX_IDENTIFIER_LENGTH} allowed"
    if value != value.strip():
        return f"{what} {value!r} must not start or end with whitespace"
    if _CONTROL.search(value):
        return f"{what} {value!r} must not contain control characters"
    if _SURROGATE.search(value):
        return f"{what} {value!r} must not contain lone surrogates"
    return None


def check_stream_label(value: object, what: str) -> str:
    """Return `value` if it can be a stream name or category, else raise `InvalidStreamId`."""
    problem = _problem(value, what)
    if problem:
        raise InvalidStreamId(problem)
    assert isinstance(value, str)
    return value


def check_tenant_id(value: object) -> str:
    """Return `value` if it can be a tenant id, else raise `InvalidTenantId`."""
    problem = _problem(value, "tenant id")
    if problem:
        raise InvalidTenantId(problem)
    assert isinstance(value, str)
    return value


def check_event_name(value: object, owner: str) -> str:
    """Return `value` if it can be the stored name of event class `owner`, else `InvalidEvent`.

    The rules of stream names: a name one database stores and another refuses (NUL) or
    compares loosely (trailing spaces) would make an event readable on one backend only.
    """
    problem = _problem(value, f"event name of {owner}")
    if problem:
        raise InvalidEvent(problem)
    assert isinstance(value, str)
    return value
