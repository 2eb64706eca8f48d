"""Event Sourcery quickstart: a bank account on an embedded SQLite file.

Run it from a clone of the repository::

    uv run python docs/quickstart.py              # a fresh database in a temporary directory
    uv run python docs/quickstart.py bank.sqlite3 # or a file of your choice (kept afterwards)

It defines events, appends them to a stream, loads the stream back, and then lets two sessions
race for the same account: the one that decided on a stale version is refused with
`ConcurrentStreamWriteError`, reloads, decides again and retries.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from event_sourcery import ConcurrentStreamWriteError, Event, EventStore, StreamId, WrappedEvent
from event_sourcery_sqlalchemy import SQLAlchemyBackend, configure_models
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import DeclarativeBase, Session


class Base(DeclarativeBase):
    """Your application's declarative base; Event Sourcery's tables join its metadata."""


class AccountOpened(Event):
    __event_name__ = "quickstart.AccountOpened"
    owner: str


class Deposited(Event):
    __event_name__ = "quickstart.Deposited"
    amount: int


class Withdrawn(Event):
    __event_name__ = "quickstart.Withdrawn"
    amount: int


class InsufficientFunds(Exception):
    """The domain's own refusal: not enough money for a withdrawal."""


def balance_of(history: Sequence[WrappedEvent[Any]]) -> int:
    """Fold the account's events into its balance."""
    balance = 0
    for wrapped in history:
        match wrapped.event:
            case Deposited(amount=amount):
                balance += amount
            case Withdrawn(amount=amount):
                balance -= amount
    return balance


def decide_withdrawal(history: Sequence[WrappedEvent[Any]], amount: int) -> Withdrawn:
    """The decision, made on what the stream says *now*: it must be re-made after a conflict."""
    balance = balance_of(history)
    if amount > balance:
        raise InsufficientFunds(f"cannot withdraw {amount}, the balance is {balance}")
    return Withdrawn(amount=amount)


def version_of(history: Sequence[WrappedEvent[Any]]) -> int:
    """The version a loaded stream is at: what the next append expects (0: no stream yet)."""
    version = history[-1].version if history else 0
    if version is None:  # only events of NO_VERSIONING streams have no version
        raise TypeError("this stream is versionless")
    return version


def describe(wrapped: WrappedEvent[Any]) -> str:
    fields = ", ".join(f"{key}={value!r}" for key, value in wrapped.event.model_dump().items())
    return f"v{wrapped.version} {type(wrapped.event).__name__}({fields})"


def store_of(session: Session) -> EventStore:
    # A backend is cheap: make one per session (per request, per unit of work).
    return SQLAlchemyBackend(session).event_store


def open_account(engine: Engine) -> StreamId:
    account = StreamId(category="account")  # a fresh random uuid in the "account" category
    with Session(engine) as session:
        store = store_of(session)
        # expected_version=0 (the default) means: this stream must not exist yet.
        store.append(AccountOpened(owner="Alice"), Deposited(amount=100), stream_id=account)
        history = store.load_stream(account)
        store.append(
            decide_withdrawal(history, 30), stream_id=account, expected_version=version_of(history)
        )
        session.commit()  # Event Sourcery only flushes; the transaction is yours.
    return account


def race(engine: Engine, account: StreamId) -> None:
    """Two sessions decide on the same version; the second to write must reload and retry."""
    with Session(engine) as session_a, Session(engine) as session_b:
        store_a, store_b = store_of(session_a), store_of(session_b)
        seen_a, seen_b = store_a.load_stream(account), store_b.load_stream(account)
        print(f"  session A and session B both loaded version {version_of(seen_a)}")

        store_a.append(
            decide_withdrawal(seen_a, 50), stream_id=account, expected_version=version_of(seen_a)
        )
        session_a.commit()
        print(f"  session A withdrew 50 and committed: version {version_of(seen_a) + 1}")

        withdrawal = decide_withdrawal(seen_b, 15)
        try:
            store_b.append(withdrawal, stream_id=account, expected_version=version_of(seen_b))
        except ConcurrentStreamWriteError as conflict:
            session_b.rollback()
            print(
                f"  session B was refused ({type(conflict).__name__}): it expected version "
                f"{conflict.expected_version}, the stream is at {conflict.actual_version}"
            )
            # Reload and decide again: the balance may no longer allow what B wanted.
            seen_b = store_b.load_stream(account)
            print(
                f"  session B reloaded version {version_of(seen_b)}, "
                f"balance {balance_of(seen_b)}, and decided again"
            )
            withdrawal = decide_withdrawal(seen_b, 15)
            store_b.append(withdrawal, stream_id=account, expected_version=version_of(seen_b))
        session_b.commit()
        print(f"  session B withdrew 15 and committed: version {version_of(seen_b) + 1}")


def main(argv: Sequence[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="event-sourcery-quickstart-") as scratch:
        path = Path(argv[0]) if argv else Path(scratch) / "bank.sqlite3"
        print(f"Event Sourcery quickstart on SQLite file {path}")
        engine = create_engine(f"sqlite:///{path}")
        configure_models(Base)
        Base.metadata.create_all(engine)  # in an application: Alembic, see docs/sqlalchemy.md

        account = open_account(engine)
        print(f"Opened stream {account} in category {account.category!r}")
        print("Concurrency:")
        race(engine, account)

        with Session(engine) as session:
            history = store_of(session).load_stream(account)
        print("Stream, loaded by a new session:")
        for wrapped in history:
            print(f"  {describe(wrapped)}")
        print(f"Balance: {balance_of(history)} at version {version_of(history)}")
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
