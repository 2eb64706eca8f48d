"""The identifier rules every backend shares: stream names, categories and tenant ids."""

import pytest

# Not public: StreamId and the backends' tenant modes call them.
from event_sourcery._limits import check_stream_label, check_tenant_id
from event_sourcery.exceptions import InvalidStreamId, InvalidTenantId
from event_sourcery.interfaces import MAX_IDENTIFIER_LENGTH

GOOD = ["a", "tenant 42", "ź" * MAX_IDENTIFIER_LENGTH, "x-y.z"]
BAD = [
    ("", "must not be empty"),
    (" a", "whitespace"),
    ("a\t", "whitespace"),
    ("a\x00b", "control characters"),
    ("a\x7fb", "control characters"),
    ("a\ud800", "lone surrogates"),
    ("x" * (MAX_IDENTIFIER_LENGTH + 1), "256 characters long; at most 255 allowed"),
    (7, "must be a str, got int"),
]


def test_the_longest_identifier_is_255_characters() -> None:
    assert MAX_IDENTIFIER_LENGTH == 255


@pytest.mark.parametrize("value", GOOD)
def test_good_identifiers_are_returned(value: str) -> None:
    assert check_stream_label(value, "stream name") == value
    assert check_tenant_id(value) == value


@pytest.mark.parametrize(("value", "problem"), BAD)
def test_bad_stream_labels_say_what_is_wrong(value: object, problem: str) -> None:
    with pytest.raises(InvalidStreamId, match=problem) as refused:
        check_stream_label(value, "stream category")
    assert str(refused.value).startswith("stream category")


@pytest.mark.parametrize(("value", "problem"), BAD)
def test_bad_tenant_ids_say_what_is_wrong(value: object, problem: str) -> None:
    with pytest.raises(InvalidTenantId, match=problem) as refused:
        check_tenant_id(value)
    assert str(refused.value).startswith("tenant id")
