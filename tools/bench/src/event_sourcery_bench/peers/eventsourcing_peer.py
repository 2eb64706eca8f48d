"""The workloads on `eventsourcing`, run by its own interpreter (see `_common`).

Two styles, each as the library's documentation shows it: `recorder` is its application
recorder with a mapper (the JSON transcoder with its UUID, datetime and decimal transcodings),
events being its frozen domain-event dataclasses; `application` is its `Application` with an
aggregate whose methods trigger events, persisted by `save`. Recorders and applications come
from the job's database: SQLite (the library puts a file database in WAL mode itself) or
PostgreSQL (its own pooled psycopg 3 datastore; appends take its table lock).
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from typing import Any
from uuid import UUID, uuid4

from event_sourcery_bench.peers._common import (
    BATCH,
    FOLLOW_DEADLINE,
    PAGE,
    STREAM_LENGTH,
    Follower,
    Job,
    Result,
    main,
    payment_fields,
    writers,
)
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, DomainEvent, event
from eventsourcing.persistence import (
    ApplicationRecorder,
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    UUIDAsHex,
)


class Payment(DomainEvent):
    """The benchmark's event: five small fields."""

    account: str
    amount: int
    currency: str
    reference: str
    note: str


class Account(Aggregate):
    """The aggregate of the `application` style: opened by a payment, then paid into."""

    @event("Opened")
    def __init__(self, account: str, amount: int, currency: str, reference: str, note: str):
        self.total = amount

    @event("Paid")
    def pay(self, account: str, amount: int, currency: str, reference: str, note: str) -> None:
        self.total += amount


def _recorder(job: Job, *, create: bool = True, pool: int = 5) -> ApplicationRecorder:
    if job["family"] == "sqlite":
        from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

        recorder: ApplicationRecorder = SQLiteApplicationRecorder(SQLiteDatastore(job["sqlite"]))
    else:
        from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

        server = job["postgresql"]
        # By default, the pool its infrastructure factory makes (a subscription holds one
        # connection to listen while it selects with another); W6's writers take one
        # connection each (their pool opens all of its connections at once).
        datastore = PostgresDatastore(
            server["dbname"],
            server["host"],
            server["port"],
            server["user"],
            server["password"],
            pool_size=pool,
            max_overflow=10 if pool > 1 else 0,
        )
        recorder = PostgresApplicationRecorder(datastore)
    if create:  # not in W6's writers: concurrent CREATE OR REPLACE FUNCTION statements fail
        recorder.create_table()  # type: ignore[attr-defined]
    return recorder


def _mapper() -> Mapper[UUID]:
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DatetimeAsISO())
    transcoder.register(DecimalAsStr())
    return Mapper(transcoder=transcoder)


def _event(originator: UUID, version: int, fields: dict[str, Any]) -> Payment:
    return Payment(
        originator_id=originator,
        originator_version=version,
        timestamp=Payment.create_timestamp(),
        **fields,
    )


# --- the recorder with its mapper ---------------------------------------------------------------


def recorder_w1(job: Job) -> Result:
    recorder, mapper = _recorder(job), _mapper()
    payloads = [payment_fields(n) for n in range(job["size"])]
    started = time.perf_counter()
    for fields in payloads:
        recorder.insert_events([mapper.to_stored_event(_event(uuid4(), 1, fields))])
    return len(payloads), time.perf_counter() - started


def recorder_w2(job: Job) -> Result:
    recorder, mapper = _recorder(job), _mapper()
    originator, payloads = uuid4(), [payment_fields(n) for n in range(job["size"])]
    started = time.perf_counter()
    for version, fields in enumerate(payloads, start=1):
        recorder.insert_events([mapper.to_stored_event(_event(originator, version, fields))])
    return len(payloads), time.perf_counter() - started


def recorder_w3(job: Job) -> Result:
    recorder, mapper = _recorder(job), _mapper()
    size = job["size"]
    payloads = [payment_fields(n) for n in range(size)]
    started = time.perf_counter()
    for offset in range(0, size, BATCH):
        originator = uuid4()
        recorder.insert_events(
            [
                mapper.to_stored_event(_event(originator, version, fields))
                for version, fields in enumerate(payloads[offset : offset + BATCH], start=1)
            ]
        )
    return size, time.perf_counter() - started


def _insert(
    recorder: ApplicationRecorder, mapper: Mapper[UUID], originator: UUID, first: int, ns: range
) -> None:
    """The payments `ns` as one append to `originator`, from version `first`."""
    recorder.insert_events(
        [
            mapper.to_stored_event(_event(originator, first + k, payment_fields(n)))
            for k, n in enumerate(ns)
        ]
    )


def recorder_w4(job: Job) -> Result:
    recorder, mapper = _recorder(job), _mapper()
    originator = uuid4()
    for offset in range(0, STREAM_LENGTH, BATCH):
        _insert(recorder, mapper, originator, offset + 1, range(offset, offset + BATCH))
    loads = job["size"]
    started = time.perf_counter()
    for _ in range(loads):
        events = [mapper.to_domain_event(s) for s in recorder.select_events(originator)]
        assert len(events) == STREAM_LENGTH
    return loads, time.perf_counter() - started


def recorder_w5(job: Job) -> Result:
    recorder, mapper = _recorder(job), _mapper()
    size = job["size"]
    position = recorder.max_notification_id() or 0
    for offset in range(0, size, PAGE):
        _insert(recorder, mapper, uuid4(), 1, range(offset, min(size, offset + PAGE)))
    seen = 0
    started = time.perf_counter()
    while seen < size:
        page = recorder.select_notifications(position, PAGE, inclusive_of_start=False)
        events = [mapper.to_domain_event(notification) for notification in page]
        position = page[-1].id
        seen += len(events)
    return seen, time.perf_counter() - started


def _writer(job: Job, count: int, ready: Any, go: Any) -> None:
    recorder, mapper = _recorder(job, create=False, pool=1), _mapper()
    payloads = [payment_fields(n) for n in range(count)]
    ready.release()
    go.wait()
    for fields in payloads:
        recorder.insert_events([mapper.to_stored_event(_event(uuid4(), 1, fields))])


def recorder_w6(job: Job) -> Result:
    """Writer processes, one event per transaction each, and a follower subscribed to the log
    (the recorder's LISTEN/NOTIFY subscription): the writers' rate, the follower's counts."""
    recorder = _recorder(job)
    count = writers(job)
    each = max(1, job["size"] // count)
    follower = Follower(count * each)
    start = recorder.max_notification_id() or 0
    context = multiprocessing.get_context("spawn")
    ready, go = context.Semaphore(0), context.Event()
    processes = [context.Process(target=_writer, args=(job, each, ready, go)) for _ in range(count)]
    for process in processes:
        process.start()
    for _ in processes:
        if not ready.acquire(timeout=FOLLOW_DEADLINE):
            raise RuntimeError("a writer process did not start")
    with recorder.subscribe(gt=start) as subscription:
        deadline = threading.Timer(FOLLOW_DEADLINE, subscription.stop)
        deadline.daemon = True
        deadline.start()
        started = time.perf_counter()
        go.set()
        follower.watch(processes)
        follower.follow(notification.id for notification in subscription)
        deadline.cancel()
    return follower.result(started)


# --- the application with an aggregate ----------------------------------------------------------


def _application(job: Job) -> Application[UUID]:
    if job["family"] == "sqlite":
        env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": job["sqlite"]}
    else:
        server = job["postgresql"]
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": server["dbname"],
            "POSTGRES_HOST": server["host"],
            "POSTGRES_PORT": str(server["port"]),
            "POSTGRES_USER": server["user"],
            "POSTGRES_PASSWORD": server["password"],
        }
    return Application(env=env)


def application_w1(job: Job) -> Result:
    app = _application(job)
    payloads = [payment_fields(n) for n in range(job["size"])]
    started = time.perf_counter()
    for fields in payloads:
        app.save(Account(**fields))
    return len(payloads), time.perf_counter() - started


def application_w2(job: Job) -> Result:
    app = _application(job)
    payloads = [payment_fields(n) for n in range(job["size"])]
    started = time.perf_counter()
    account = Account(**payloads[0])
    app.save(account)
    for fields in payloads[1:]:
        account.pay(**fields)
        app.save(account)
    return len(payloads), time.perf_counter() - started


def _filled(payloads: list[dict[str, Any]]) -> Account:
    account = Account(**payloads[0])
    for fields in payloads[1:]:
        account.pay(**fields)
    return account


def application_w3(job: Job) -> Result:
    app = _application(job)
    size = job["size"]
    payloads = [payment_fields(n) for n in range(size)]
    started = time.perf_counter()
    for offset in range(0, size, BATCH):
        app.save(_filled(payloads[offset : offset + BATCH]))
    return size, time.perf_counter() - started


def application_w4(job: Job) -> Result:
    """Loads of a 1,000-event aggregate (its events replayed, as the application does)."""
    app = _application(job)
    account = _filled([payment_fields(n) for n in range(STREAM_LENGTH)])
    app.save(account)
    loads = job["size"]
    started = time.perf_counter()
    for _ in range(loads):
        assert app.repository.get(account.id).version == STREAM_LENGTH
    return loads, time.perf_counter() - started


RUNS = {
    "recorder": {
        "W1": recorder_w1,
        "W2": recorder_w2,
        "W3": recorder_w3,
        "W4": recorder_w4,
        "W5": recorder_w5,
        "W6": recorder_w6,
        "W6s": recorder_w6,
    },
    "application": {
        "W1": application_w1,
        "W2": application_w2,
        "W3": application_w3,
        "W4": application_w4,
    },
}

if __name__ == "__main__":
    import json
    import sys

    raise SystemExit(main(RUNS[json.loads(sys.argv[1])["style"]]))
