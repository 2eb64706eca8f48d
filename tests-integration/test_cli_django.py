"""`event-sourcery --django-settings`: the command line on docs/django.md's example project.

The project is copied to a temporary folder, migrated and used as in test_django_example.py;
the command line then runs in the project's folder, as an operator would run it there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent / "django_project"

_OPEN_ACCOUNT = """
import json
from django.test import Client

client = Client()
account = client.post("/accounts/", {"owner": "Alice"}).json()["account"]
assert client.post(f"/accounts/{account}/deposits/", {"amount": 5}).status_code == 200
print(json.dumps({"account": account}))
"""


def _run(folder: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, *args],
        cwd=folder,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_streams_and_projections_of_a_django_project(tmp_path: Path) -> None:
    folder = tmp_path / "django_project"
    shutil.copytree(PROJECT, folder, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3*"))
    _run(folder, "manage.py", "migrate", "--verbosity", "0")
    opened = _run(folder, "manage.py", "shell", "-c", _OPEN_ACCOUNT)
    account = json.loads(opened.splitlines()[-1])["account"]
    _run(
        folder, "manage.py", "event_sourcery_worker", "--outbox-publisher", "bank.bus.publish",
        "--projection", "bank.projections.balances", "--once",
    )  # fmt: skip
    cli = ["-m", "event_sourcery_cli", "--django-settings", "bankproject.settings"]

    streams = json.loads(_run(folder, *cli, "streams", "list", "--json"))
    projections = json.loads(_run(folder, *cli, "projections", "list", "--json"))

    assert [(row["stream_id"], row["events"]) for row in streams] == [(account, 2)]
    assert [(row["checkpoint"], row["lag"]) for row in projections] == [
        (streams[0]["last_position"], 0)
    ]
