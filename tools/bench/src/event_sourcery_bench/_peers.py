"""Peer libraries as optional columns: each in a virtual environment of its own, driven as a
subprocess that runs the same workload on the same payload and reports JSON.

A peer cannot share the harness' environment: python-event-sourcery ships this project's import
names, and eventsourcing's dependencies are not ours to pin. So the harness makes one
environment per peer (pinned versions, below) in the user's cache folder, reuses it while the
pins are unchanged, and runs `peers/<script>` with that environment's interpreter; the script
times its own measured part, as the harness' run functions do, so starting the interpreter is
never counted. A peer whose environment cannot be built is left out with a loud line.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

from event_sourcery_bench._targets import POSTGRES_URL, _server_database

_SCRIPTS = Path(__file__).parent / "peers"
#: On the scripts' `PYTHONPATH`: `event_sourcery_bench.peers._common` and `._payload` import from
#: there (nothing else of this package: it needs this project's environment).
_SOURCE = Path(__file__).parent.parent
_EVENTSOURCING = (
    "eventsourcing[postgres]==9.5.6",
    "psycopg[binary,pool]==3.3.9",  # the psycopg build this project's PostgreSQL runs use
)
_PYTHON_EVENT_SOURCERY = (
    "python-event-sourcery[sqlalchemy]==0.6.1",
    "sqlalchemy==2.0.59",  # 0.6.1 imports a name SQLAlchemy 2.1 dropped
    "psycopg2-binary==2.9.13",
    "pydantic==2.14.4",
)
_APPENDS_AND_READS = frozenset({"W1", "W2", "W3", "W4", "W5", "W6", "W6s"})


@dataclass(frozen=True)
class Peer:
    """A peer column: a library, the style it is used in, and what it runs."""

    name: str
    script: str
    style: str
    requirements: tuple[str, ...]
    workloads: frozenset[str]


PEERS = (
    Peer("eventsourcing", "eventsourcing_peer.py", "recorder", _EVENTSOURCING, _APPENDS_AND_READS),
    Peer(
        "eventsourcing-app",
        "eventsourcing_peer.py",
        "application",
        _EVENTSOURCING,
        frozenset({"W1", "W2", "W3", "W4"}),
    ),
    Peer(
        "python-event-sourcery",
        "python_event_sourcery_peer.py",
        "",
        _PYTHON_EVENT_SOURCERY,
        _APPENDS_AND_READS,
    ),
)
PEER_NAMES = [peer.name for peer in PEERS]


def _cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "event-sourcery-bench" / "peers"


def _interpreter(environment: Path) -> Path:
    return environment / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _build(environment: Path, requirements: tuple[str, ...]) -> None:
    """A fresh environment with `requirements`, by uv when it is there, else venv and pip."""
    shutil.rmtree(environment, ignore_errors=True)
    environment.parent.mkdir(parents=True, exist_ok=True)
    uv = shutil.which("uv")
    python = _interpreter(environment)
    if uv is not None:
        commands = [
            [uv, "venv", "-q", "--python", sys.executable, str(environment)],
            [uv, "pip", "install", "-q", "--python", str(python), *requirements],
        ]
    else:
        commands = [
            [sys.executable, "-m", "venv", str(environment)],
            [str(python), "-m", "pip", "install", "-q", *requirements],
        ]
    for command in commands:
        # Outside the workspace, so that none of its uv settings applies to the peer.
        subprocess.run(command, check=True, capture_output=True, text=True, cwd=environment.parent)
    (environment / ".complete").write_text("\n".join(requirements))


def environment(requirements: tuple[str, ...]) -> Path:
    """The interpreter of an environment holding `requirements`, built on first use.

    Raises:
        RuntimeError: the environment could not be built (the installer's last lines).
    """
    digest = hashlib.sha256("\n".join(requirements).encode()).hexdigest()[:12]
    where = _cache() / f"{requirements[0].split('[')[0].split('=')[0]}-{digest}"
    if not (where / ".complete").exists():
        try:
            _build(where, requirements)
        except (OSError, subprocess.CalledProcessError) as exc:
            detail = getattr(exc, "stderr", None) or str(exc)
            raise RuntimeError(" / ".join(detail.strip().splitlines()[-3:])) from exc
    return _interpreter(where)


@dataclass
class PeerColumn:
    """One peer ready to run: its interpreter and, per database, where it writes."""

    peer: Peer
    python: Path
    directory: Path
    databases: dict[str, dict[str, Any]] = field(default_factory=dict)

    def runs(self, workload: str, family: str) -> bool:
        """Whether this peer has `workload` on the database `family` ("" for none)."""
        return family in ("sqlite", "postgresql") and workload in self.peer.workloads

    def _database(self, family: str) -> dict[str, Any]:
        """The peer's own database of `family` (a WAL-mode file, or a fresh server database),
        made on first use: a peer never writes where the library or another peer does."""
        if family not in self.databases:
            slug = self.peer.name.replace("-", "_")
            if family == "sqlite":
                path = self.directory / f"peer-{slug}.sqlite3"
                sqlite3.connect(path).execute("PRAGMA journal_mode=WAL").close()
                self.databases[family] = {"sqlite": str(path)}
            else:
                url = make_url(_server_database(POSTGRES_URL, f"es_bench_peer_{slug}"))
                server = {
                    "host": url.host,
                    "port": url.port or 5432,
                    "user": url.username,
                    "password": url.password or "",
                    "dbname": url.database,
                }
                self.databases[family] = {"postgresql": server}
        return self.databases[family]

    def run(self, workload: str, family: str, size: int) -> tuple[int, float, str]:
        """One run of `workload`: (amount, seconds, note), as the peer's script reports them.

        Raises:
            RuntimeError: the script failed (its last lines of error output).
        """
        job = {"workload": workload, "family": family, "size": size, "style": self.peer.style}
        job.update(self._database(family))
        done = subprocess.run(
            [str(self.python), str(_SCRIPTS / self.peer.script), json.dumps(job)],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
            env={**os.environ, "PYTHONPATH": str(_SOURCE)},
        )
        if done.returncode != 0:
            raise RuntimeError(" / ".join(done.stderr.strip().splitlines()[-3:]))
        report = json.loads(done.stdout.strip().splitlines()[-1])
        return int(report["amount"]), float(report["seconds"]), str(report.get("note", ""))


def peer_columns(names: list[str], directory: Path) -> list[PeerColumn]:
    """The requested peers with their environments; one that cannot be built is left out
    with a loud line (never a crash)."""
    columns = []
    for peer in PEERS:
        if peer.name not in names:
            continue
        try:
            python = environment(peer.requirements)
        except RuntimeError as exc:
            print(f"!! peer {peer.name} left out: its environment could not be built: {exc}")
            continue
        columns.append(PeerColumn(peer, python, directory))
    return columns
