# bank/views.py
from uuid import UUID

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST
from event_sourcery import ConcurrentStreamWriteError, StreamId

from bank.events import AccountOpened, Deposited, async_backend, backend
from bank.models import Balance


@require_POST
@transaction.atomic  # the append commits with the rest of the request, or not at all
def open_account(request: HttpRequest) -> JsonResponse:
    stream = StreamId(category="account")
    backend.event_store.append(AccountOpened(owner=request.POST["owner"]), stream_id=stream)
    return JsonResponse({"account": str(stream.uuid)}, status=201)


@require_POST
@transaction.atomic
def deposit(request: HttpRequest, account: UUID) -> JsonResponse:
    stream = StreamId(account, category="account")
    history = backend.event_store.load_stream(stream)
    if not history:
        return JsonResponse({"error": "no such account"}, status=404)
    version = history[-1].version
    try:
        backend.event_store.append(
            Deposited(amount=int(request.POST["amount"])),
            stream_id=stream,
            expected_version=version,
        )
    except ConcurrentStreamWriteError:
        return JsonResponse({"error": "the account changed meanwhile; try again"}, status=409)
    return JsonResponse({"version": version + 1})


@require_POST
async def deposit_async(request: HttpRequest, account: UUID) -> JsonResponse:
    """`deposit` as an async view: each call of the store is awaited, and runs in the
    thread where Django's async ORM runs queries, on this request's connection."""
    stream, amount = StreamId(account, category="account"), int(request.POST["amount"])
    store = async_backend.event_store
    if not (history := await store.load_stream(stream)):
        return JsonResponse({"error": "no such account"}, status=404)
    version = history[-1].version
    try:
        await store.append(Deposited(amount=amount), stream_id=stream, expected_version=version)
    except ConcurrentStreamWriteError:
        return JsonResponse({"error": "the account changed meanwhile; try again"}, status=409)
    return JsonResponse({"version": version + 1})


def balance(request: HttpRequest, account: UUID) -> JsonResponse:
    row = get_object_or_404(Balance, account=account)
    return JsonResponse({"owner": row.owner, "total": row.total})
