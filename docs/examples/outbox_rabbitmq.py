"""Publish the transactional outbox to RabbitMQ with pika: a complete, runnable example.

Usage: ``python docs/examples/outbox_rabbitmq.py [database URL]`` (default: a SQLite file in
the current folder). The broker is ``EVENT_SOURCERY_RABBITMQ_URL``, by default the local
RabbitMQ as guest; the queue ``EVENT_SOURCERY_RABBITMQ_QUEUE`` (default ``orders``).
"""

from __future__ import annotations

import json
import os
import sys

import pika
from event_sourcery import Event, Recorded, StreamId
from event_sourcery_sqlalchemy import SQLAlchemyBackend, configure_models
from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, Session

RABBITMQ_URL = os.environ.get(
    "EVENT_SOURCERY_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"
)
QUEUE = os.environ.get("EVENT_SOURCERY_RABBITMQ_QUEUE", "orders")


class Base(DeclarativeBase):
    pass


configure_models(Base)  # the event store's tables, the outbox's included


class OrderPlaced(Event):
    order_id: str
    total: int


def place_orders(engine_url: str, count: int) -> None:
    """Appends events; the outbox entries commit with them, in the same transaction."""
    engine = create_engine(engine_url)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        backend = SQLAlchemyBackend(session).with_outbox()
        for n in range(count):
            backend.event_store.append(
                OrderPlaced(order_id=f"order-{n}", total=10 * n),
                stream_id=StreamId(category="order"),
            )
        session.commit()
    engine.dispose()


def publish_outbox(engine_url: str) -> int:
    """Hands every outbox entry to RabbitMQ; returns how many were published."""
    engine = create_engine(engine_url)
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    channel = connection.channel()
    channel.queue_declare(queue=QUEUE, durable=True)
    channel.confirm_delivery()  # basic_publish raises unless the broker took the message

    def publish(record: Recorded) -> None:
        body = {
            "type": type(record.wrapped_event.event).__name__,
            "position": record.position,
            "stream": str(record.stream_id),
            "event": record.wrapped_event.event.model_dump(mode="json"),
        }
        channel.basic_publish(
            exchange="",
            routing_key=QUEUE,
            body=json.dumps(body).encode(),
            properties=pika.BasicProperties(
                delivery_mode=pika.DeliveryMode.Persistent,
                message_id=str(record.wrapped_event.uuid),  # consumers deduplicate on it
                content_type="application/json",
            ),
        )

    total = 0
    with Session(engine) as session:
        outbox = SQLAlchemyBackend(session).outbox
        while published := outbox.run(publish, limit=100):
            session.commit()  # the published entries leave the outbox only now
            total += published
        session.commit()
    connection.close()
    engine.dispose()
    return total


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else "sqlite:///outbox_example.sqlite3"
    place_orders(url, 3)
    print(f"published {publish_outbox(url)} events to queue {QUEUE!r}")
