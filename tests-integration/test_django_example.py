"""The example project of docs/django.md: it runs, and the document shows its files verbatim.

The project (``django_project/``) is copied to a temporary folder and driven as a user would:
``manage.py migrate``, requests through Django's test clients (``Client``, and ``AsyncClient``
for the async view) in ``manage.py shell``, then
``manage.py event_sourcery_worker --once`` publishing the outbox and running the projection;
and the ``event-sourcery`` command line (``--django-settings``) in the project's folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
PROJECT = HERE / "django_project"
DOC = HERE.parent / "docs" / "django.md"
# A block of the document showing a file of the project: its directive names this module, and
# its first line is "# <the file's path>".
_SHOWN_FILE = re.compile(
    r"test_django_example\.py[^\n]*-->\n```python\n# (?P<path>[\w/]+\.py)\n(?P<code>.*?)```",
    re.S,
)

_REQUESTS = """
import asyncio
import json
from django.test import AsyncClient, Client

client = Client()
opened = client.post("/accounts/", {"owner": "Alice"})
assert opened.status_code == 201, opened.content
account = opened.json()["account"]
for amount in (100, 50):
    response = client.post(f"/accounts/{account}/deposits/", {"amount": amount})
    assert response.status_code == 200, response.content
missing = client.post("/accounts/00000000-0000-0000-0000-000000000000/deposits/", {"amount": 1})
assert missing.status_code == 404


async def deposit_async() -> None:
    client = AsyncClient()
    response = await client.post(f"/accounts/{account}/async-deposits/", {"amount": 25})
    assert response.status_code == 200, response.content
    assert response.json() == {"version": 4}
    nowhere = "/accounts/00000000-0000-0000-0000-000000000000/async-deposits/"
    assert (await client.post(nowhere, {"amount": 1})).status_code == 404


asyncio.run(deposit_async())
print(json.dumps({"account": account}))
"""

_BALANCE = """
import json, sys
from django.test import Client

print(json.dumps(Client().get(f"/accounts/{sys.argv[-1]}/").json()))
"""


def _python(folder: Path, *args: str) -> str:
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


def _manage(folder: Path, *args: str) -> str:
    return _python(folder, "manage.py", *args)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "django_project"
    shutil.copytree(PROJECT, folder, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3*"))
    return folder


def test_the_example_project_runs(project: Path) -> None:
    _manage(project, "migrate", "--verbosity", "0")
    _manage(project, "check")
    assert "No changes detected" in _manage(project, "makemigrations", "--check", "--dry-run")
    account = json.loads(_manage(project, "shell", "-c", _REQUESTS).splitlines()[-1])["account"]

    worker = _manage(
        project,
        "event_sourcery_worker",
        "--outbox-publisher",
        "bank.bus.publish",
        "--projection",
        "bank.projections.balances",
        "--once",
    )
    published = [json.loads(line) for line in worker.splitlines() if line.startswith("{")]
    assert [(m["type"], m.get("amount")) for m in published] == [
        ("AccountOpened", None),
        ("Deposited", 100),
        ("Deposited", 50),
        ("Deposited", 25),
    ]
    balance = _manage(project, "shell", "-c", _BALANCE.replace("sys.argv[-1]", repr(account)))
    assert json.loads(balance.splitlines()[-1]) == {"owner": "Alice", "total": 175}


_OPEN_ACCOUNT = """
import json
from django.test import Client

client = Client()
account = client.post("/accounts/", {"owner": "Alice"}).json()["account"]
assert client.post(f"/accounts/{account}/deposits/", {"amount": 5}).status_code == 200
print(json.dumps({"account": account}))
"""


def test_the_command_line_in_the_project(project: Path) -> None:
    """`event-sourcery --django-settings` run in the project's folder, as an operator would."""
    _manage(project, "migrate", "--verbosity", "0")
    account = json.loads(_manage(project, "shell", "-c", _OPEN_ACCOUNT).splitlines()[-1])["account"]
    _manage(
        project, "event_sourcery_worker", "--outbox-publisher", "bank.bus.publish",
        "--projection", "bank.projections.balances", "--once",
    )  # fmt: skip
    cli = ["-m", "event_sourcery_cli", "--django-settings", "bankproject.settings"]

    streams = json.loads(_python(project, *cli, "streams", "list", "--json"))
    projections = json.loads(_python(project, *cli, "projections", "list", "--json"))

    assert [(row["stream_id"], row["events"]) for row in streams] == [(account, 2)]
    assert [(row["checkpoint"], row["lag"]) for row in projections] == [
        (streams[0]["last_position"], 0)
    ]


def test_the_document_shows_the_project_files_verbatim() -> None:
    shown = {m["path"]: m["code"] for m in _SHOWN_FILE.finditer(DOC.read_text(encoding="utf-8"))}
    assert set(shown) >= {
        "bankproject/settings.py",
        "bank/events.py",
        "bank/views.py",
        "bank/projections.py",
    }
    for path, code in shown.items():
        source = (PROJECT / path).read_text(encoding="utf-8")
        assert source == f"# {path}\n{code}", f"docs/django.md shows an outdated {path}"
