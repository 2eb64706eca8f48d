"""The system events a fresh node writes before any client connects."""

from __future__ import annotations

import json
import uuid

from kurrentdb_emulator._records import JSON, ProposedEvent


def start_up_events(node_id: str) -> list[tuple[str, ProposedEvent]]:
    """Stand-ins for a fresh KurrentDB node's first events, as (stream, event) pairs.

    They make ``$all`` non-empty from the start and give it ``$``-typed events in ``$``-streams,
    so clients must filter system events as they must against a real server, and no client
    event sits at the first positions of the log.
    """
    epoch = {
        "epochNumber": 0,
        "epochId": str(uuid.uuid4()),
        "epochPosition": 0,
        "prevEpochPosition": -1,
        "leaderInstanceId": node_id,
    }
    admin = {"loginName": "admin", "fullName": "KurrentDB Administrator", "groups": ["$admins"]}
    events: list[tuple[str, str, object]] = [
        ("$epoch-information", "$epoch-information", epoch),
        ("$user-admin", "$user", admin),
        ("$users", "$User", "admin"),
    ]
    return [
        (stream, ProposedEvent(str(uuid.uuid4()), event_type, JSON, json.dumps(data).encode(), b""))
        for stream, event_type, data in events
    ]
