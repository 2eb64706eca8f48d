# bank/projections.py
from django.db.models import F
from event_sourcery import Projector, Recorded

from bank.events import AccountOpened, Deposited, backend
from bank.models import Balance


def apply(record: Recorded) -> None:
    """Runs in the worker's transaction, which also saves the checkpoint."""
    event, account = record.wrapped_event.event, record.stream_id.uuid
    if isinstance(event, AccountOpened):
        Balance.objects.create(account=account, owner=event.owner)
    elif isinstance(event, Deposited):
        Balance.objects.filter(account=account).update(total=F("total") + event.amount)


balances = Projector(backend, name="balances", handler=apply, categories=["account"])
