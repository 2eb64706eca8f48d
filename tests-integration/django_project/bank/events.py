# bank/events.py
from event_sourcery import Event
from event_sourcery_django import AsyncDjangoBackend, DjangoBackend


class AccountOpened(Event):
    owner: str


class Deposited(Event):
    amount: int


# One backend for the whole project: import it wherever you need it. Every appended event
# also enters the outbox, in the same transaction (the worker publishes it).
backend = DjangoBackend().with_outbox()
# The same, for async views: the same options, each call awaited.
async_backend = AsyncDjangoBackend(config=backend.config)
