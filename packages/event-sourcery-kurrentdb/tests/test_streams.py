"""Stream names: identities, tenants and the backend's own streams never collide."""

from __future__ import annotations

import re
from uuid import UUID, uuid4

import pytest
from event_sourcery import StreamId
from event_sourcery_kurrentdb._streams import (
    USER_STREAMS_REGEX,
    categories_regex,
    checkpoint_stream,
    escape,
    name_stream,
    outbox_streams,
    parse_stream_name,
    snapshot_stream,
    stream_name,
    unescape,
    user_streams_regex,
)
from hypothesis import given
from hypothesis import strategies as st

#: Fixed, so that parallel workers collect the same parametrized tests.
HEX = UUID("5e1f0b6a-7c2d-4e3f-8a9b-0c1d2e3f4a5b").hex

labels = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(
    lambda text: text == text.strip()
)


@given(labels)
def test_escaped_labels_round_trip_and_never_hold_a_dash_or_dollar(label: str) -> None:
    escaped = escape(label)
    assert "-" not in escaped
    assert "$" not in escaped
    assert unescape(escaped) == label


@given(labels, labels, st.booleans(), st.booleans())
def test_user_stream_names_parse_back(
    category: str, tenant: str, with_category: bool, with_tenant: bool
) -> None:
    stream_id = StreamId(uuid4(), category=category if with_category else None)
    tenant_id = tenant if with_tenant else None
    name = stream_name(stream_id, tenant_id)
    assert parse_stream_name(name) == (stream_id.category, stream_id.uuid, tenant_id)
    assert re.fullmatch(USER_STREAMS_REGEX, name)
    assert not name.startswith("$")


@given(labels)
def test_kurrentdb_category_is_ours_escaped(category: str) -> None:
    name = stream_name(StreamId(category=category), f"tenant-{uuid4().hex}")
    assert name.partition("-")[0] == escape(category)
    assert re.fullmatch(categories_regex(frozenset({category})), name)
    assert not re.fullmatch(categories_regex(frozenset({category + "x"})), name)


def test_readable_names_for_plain_identifiers() -> None:
    uuid = uuid4()
    assert stream_name(StreamId(uuid, category="order"), None) == f"order-{uuid.hex}"
    assert stream_name(StreamId(uuid, category="order"), "acme") == f"order-{uuid.hex}@acme"
    assert stream_name(StreamId(uuid), None) == uuid.hex
    assert stream_name(StreamId(uuid, category="sub-1"), "t-1") == f"sub%2D1-{uuid.hex}@t%2D1"


@pytest.mark.parametrize(
    "internal",
    [
        snapshot_stream(f"order-{HEX}"),
        snapshot_stream(HEX),
        name_stream("t", "c", "n"),
        checkpoint_stream("projection-1"),
        *outbox_streams("default"),
    ],
)
def test_the_backends_own_streams_are_never_user_streams(internal: str) -> None:
    assert parse_stream_name(internal) is None
    assert not re.fullmatch(USER_STREAMS_REGEX, internal)
    assert internal.startswith("es$")


@pytest.mark.parametrize(
    "foreign",
    [
        "order-1",
        f"$$order-{HEX}",
        "$ce-order",
        f"order-{HEX.upper()}",
        f"order-{HEX}@",
        f"order-{HEX}x",
        f"a%2-{HEX}",
    ],
)
def test_other_streams_are_not_taken_for_user_streams(foreign: str) -> None:
    assert parse_stream_name(foreign) is None


@given(st.none() | labels, st.none() | labels, st.none() | labels)
def test_tenant_filters_match_exactly_their_tenants(
    category: str | None, tenant: str | None, other: str | None
) -> None:
    name = stream_name(StreamId(category=category), tenant)
    assert re.fullmatch(user_streams_regex(None, frozenset({tenant})), name)
    assert re.fullmatch(user_streams_regex(None, frozenset({tenant, other})), name)
    if other != tenant:
        assert not re.fullmatch(user_streams_regex(None, frozenset({other})), name)
    assert not re.fullmatch(user_streams_regex(None, frozenset()), name)
