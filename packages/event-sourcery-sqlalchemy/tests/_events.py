"""Events of this package's tests; names prefixed so they never clash with other suites."""

from event_sourcery import Event


class Deposited(Event):
    __event_name__ = "es_sqlalchemy_tests.Deposited"
    amount: int


class Note(Event):
    __event_name__ = "es_sqlalchemy_tests.Note"
    text: str
