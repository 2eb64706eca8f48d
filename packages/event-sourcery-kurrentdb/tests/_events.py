"""Events of this package's tests; names prefixed so they never clash with other suites."""

from event_sourcery import Event


class Opened(Event):
    __event_name__ = "es_kurrentdb_tests.Opened"
    owner: str


class Noted(Event):
    __event_name__ = "es_kurrentdb_tests.Noted"
    text: str
