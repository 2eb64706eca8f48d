# bank/bus.py
import json

from event_sourcery import Recorded


def publish(record: Recorded) -> None:
    """Hands an event to the message broker; here, standard output. Raise to retry later."""
    event = record.wrapped_event
    message = {"position": record.position, "type": type(event.event).__name__}
    print(json.dumps(message | event.event.model_dump(mode="json")), flush=True)
