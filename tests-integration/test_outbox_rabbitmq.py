"""docs/examples/outbox_rabbitmq.py against the local RabbitMQ: published, consumed, checked.

The broker is ``EVENT_SOURCERY_RABBITMQ_URL`` (default ``amqp://guest:guest@127.0.0.1:5672/%2F``);
set it to an empty string to leave RabbitMQ out. Unreachable: skipped loudly, or failed with
``--require-backends``, like the databases (see conftest).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from uuid import uuid4

import pytest

pika = pytest.importorskip("pika")

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "outbox_rabbitmq.py"
DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


@pytest.fixture
def rabbitmq(request: pytest.FixtureRequest) -> str:
    url = os.environ.get("EVENT_SOURCERY_RABBITMQ_URL", DEFAULT_URL)
    if not url.strip():
        pytest.skip("BACKEND LEFT OUT: rabbitmq (EVENT_SOURCERY_RABBITMQ_URL is empty)")
    try:
        pika.BlockingConnection(pika.URLParameters(url)).close()
    except pika.exceptions.AMQPError as error:
        message = f"BACKEND UNREACHABLE: rabbitmq: {type(error).__name__}: {error}"
    else:
        return url
    if request.config.getoption("--require-backends"):
        pytest.fail(f"{message} (--require-backends)", pytrace=False)
    pytest.skip(message)


def test_example_publishes_the_outbox_to_rabbitmq(rabbitmq: str, tmp_path: Path) -> None:
    queue = f"es-example-{uuid4().hex}"
    env = {**os.environ, "EVENT_SOURCERY_RABBITMQ_URL": rabbitmq}
    env["EVENT_SOURCERY_RABBITMQ_QUEUE"] = queue
    database = f"sqlite:///{tmp_path / 'example.sqlite3'}"
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), database],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"published 3 events to queue {queue!r}" in result.stdout
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq))
    try:
        channel = connection.channel()
        bodies = []
        for _ in range(3):
            method, properties, body = channel.basic_get(queue=queue, auto_ack=True)
            assert method is not None, "fewer messages than published"
            assert properties.message_id
            bodies.append(json.loads(body))
        assert channel.basic_get(queue=queue, auto_ack=True)[0] is None
        channel.queue_delete(queue=queue)
    finally:
        connection.close()
    assert [b["event"] for b in bodies] == [
        {"order_id": f"order-{n}", "total": 10 * n} for n in range(3)
    ]
    assert [b["type"] for b in bodies] == ["OrderPlaced"] * 3
    positions = [b["position"] for b in bodies]
    assert positions == sorted(positions)
