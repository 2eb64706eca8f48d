import event_sourcery_cli


def test_public_names_are_pinned_and_sorted() -> None:
    assert event_sourcery_cli.__all__ == ["GROUP", "BackendOpener", "app", "main"]
    # Sorted as ruff's RUF022 sorts: constants first, then classes, then functions.
    for name in event_sourcery_cli.__all__:
        assert getattr(event_sourcery_cli, name) is not None


def test_backends_register_in_the_documented_group() -> None:
    assert event_sourcery_cli.GROUP == "event_sourcery.backends"
