# bank/events.py
from event_sourcery import Event
from event_sourcery_django import DjangoBackend


class AccountOpened(Event):
    owner: str


class Deposited(Event):
    amount: int


# One backend for the whole project: import it wherever you need it. Every appended event
# also enters the outbox, in the same transaction (the worker publishes it).
backend = DjangoBackend().with_outbox()
