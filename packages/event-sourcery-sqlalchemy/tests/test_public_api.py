"""The package's public names are a contract: adding or removing one is a deliberate act."""

import event_sourcery_sqlalchemy


def test_public_names_are_pinned_and_sorted() -> None:
    assert event_sourcery_sqlalchemy.__all__ == [
        "DEFAULT_TABLE_PREFIX",
        "AsyncSQLAlchemyBackend",
        "SQLAlchemyBackend",
        "SQLAlchemyModels",
        "SQLAlchemyStorageStrategy",
        "configure_models",
    ]
    # Ruff's order (RUF022), as the core's test: constants, then classes, then functions.
    order = sorted(
        event_sourcery_sqlalchemy.__all__,
        key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n),
    )
    assert order == event_sourcery_sqlalchemy.__all__
    for name in set(event_sourcery_sqlalchemy.__all__) - {"DEFAULT_TABLE_PREFIX"}:
        module = getattr(event_sourcery_sqlalchemy, name).__module__
        assert module.startswith("event_sourcery_sqlalchemy._")
