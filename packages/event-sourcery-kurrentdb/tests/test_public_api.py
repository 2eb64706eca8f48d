"""The public names of `event_sourcery_kurrentdb`, pinned."""

import event_sourcery_kurrentdb


def test_all_is_sorted_and_complete() -> None:
    assert event_sourcery_kurrentdb.__all__ == [
        "AsyncKurrentDBBackend",
        "KurrentDBBackend",
        "KurrentDBCheckpointStrategy",
        "KurrentDBKeyStorage",
        "KurrentDBOutboxStrategy",
        "KurrentDBStorageStrategy",
        "KurrentDBSubscriptionStrategy",
        "RetryPolicy",
    ]
    assert sorted(event_sourcery_kurrentdb.__all__) == event_sourcery_kurrentdb.__all__
    for name in event_sourcery_kurrentdb.__all__:
        assert getattr(event_sourcery_kurrentdb, name).__module__.startswith(
            "event_sourcery_kurrentdb."
        )
