"""K: ``event-sourcery copy`` of a SQLite store into the target, against W3 of the same run.

The source is a SQLite file seeded once per size (streams of 100 events, as W3 appends
them), outside the timed part; each repetition copies it into a new, empty database of the
target's server (a copy keeps event ids, so a second copy into the same database would be
refused). The copy runs in a process of its own, as a user runs the command, which reports
its time (the command only, not the interpreter's start) and its peak RSS: flat, since the
copy streams the log chunk by chunk. The baseline is the library's own W3 batch-append rate
on the same target in the same run, so the ratio says how close a copy comes to writing the
same events afresh.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path
from uuid import uuid4

from event_sourcery import StreamId
from event_sourcery_sqlalchemy import SQLAlchemyBackend, configure_models
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from event_sourcery_bench._live import NOTES
from event_sourcery_bench._payload import payment
from event_sourcery_bench._targets import Target

#: Events per stream of the source, as W3 appends them.
_STREAM = 100
#: W3's own size: the baseline's rate needs no million events.
_BASELINE = 20_000
#: The highest peak RSS of a copying process so far, by target.
_PEAK_MB: dict[str, float] = {}
_CHILD = """
import json, resource, sys, time
from event_sourcery_cli import app
started = time.perf_counter()
app(["copy", "--from", sys.argv[1], "--to", sys.argv[2]], standalone_mode=False)
elapsed = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": elapsed, "peak_kb": peak}))
"""


def _tables(url: str) -> None:
    metadata = MetaData()
    configure_models(metadata)
    engine = create_engine(url)
    metadata.create_all(engine)
    engine.dispose()


@cache
def _source(size: int) -> str:
    """A SQLite store of `size` events, made once per size and process."""
    folder = Path(tempfile.mkdtemp(prefix="es-bench-copy-"))
    url = f"sqlite:///{folder / 'source.db'}"
    _tables(url)
    engine = create_engine(url)
    with Session(engine) as session:
        store = SQLAlchemyBackend(session).event_store
        for offset in range(0, size, _STREAM):
            events = [payment(n) for n in range(offset, min(size, offset + _STREAM))]
            store.append(*events, stream_id=StreamId(category="bench_copy"))
            if offset % 10_000 == 0:
                session.commit()
        session.commit()
    engine.dispose()
    return url


def _empty_database(target: Target) -> tuple[str, str | None]:
    """The URL of a new, empty store on the target's server, and the database to drop."""
    assert target.engine is not None
    if target.family == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="es-bench-copy-"))
        url = f"sqlite:///{folder / 'target.db'}"
        _tables(url)
        return url, None
    name = f"es_bench_copy_{uuid4().hex[:8]}"
    admin = create_engine(target.engine.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    url = target.engine.url.set(database=name).render_as_string(hide_password=False)
    _tables(url)
    return url, name


def _drop(target: Target, name: str | None) -> None:
    if name is None or target.engine is None:
        return
    admin = create_engine(target.engine.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE {name}"))
    admin.dispose()


def copy_library(target: Target, size: int) -> tuple[int, float]:
    """Copy `size` events from SQLite into the target with the command line."""
    source = _source(size)
    url, name = _empty_database(target)
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, source, url],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        _drop(target, name)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    peak = _PEAK_MB[target.name] = max(_PEAK_MB.get(target.name, 0.0), report["peak_kb"] / 1024)
    NOTES[("K", target.name)] = (
        f"copied {size} events from {make_url(source).get_backend_name()}; "
        f"peak RSS of the copying process {peak:.0f} MB"
    )
    return size, report["seconds"]


def w3_baseline(target: Target, size: int) -> tuple[int, float]:
    """The library's W3 (batches of 100 events per append) on the same target."""
    from event_sourcery_bench._workloads import w3_library  # it registers this module's runs

    return w3_library(target, min(size, _BASELINE))
