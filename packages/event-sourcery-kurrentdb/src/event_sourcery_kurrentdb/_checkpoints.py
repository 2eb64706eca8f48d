"""Projection checkpoints: one stream per projection, its newest event is the checkpoint.

There is no transaction to lock a checkpoint in, so a save expects the revision its `load` saw:
if another worker saved in between, the save fails with `ConcurrentStreamWriteError` instead of
moving the checkpoint back. Run one worker per projection; the handler's effects are then
applied at least once (a crash between the handler and the save replays that batch).
"""

from __future__ import annotations

import json
import re

from event_sourcery.exceptions import ConcurrentStreamWriteError
from event_sourcery.interfaces import CheckpointStrategy
from kurrentdbclient import StreamState

from event_sourcery_kurrentdb import _steps as steps
from event_sourcery_kurrentdb._client import Connection
from event_sourcery_kurrentdb._codec import CHECKPOINT, internal_event
from event_sourcery_kurrentdb._errors import user_operation
from event_sourcery_kurrentdb._steps import Expected, Steps
from event_sourcery_kurrentdb._streams import CHECKPOINT_PREFIX, checkpoint_stream, unescape


class CheckpointSteps:
    """What the checkpoint strategies do, as steps (`_steps`); each method with the contract of
    its `CheckpointStrategy` namesake. The sync and asyncio strategies run these, one instance
    each: it remembers the revision each `load` saw, for the `save` that follows."""

    __slots__ = ("_loaded",)

    def __init__(self) -> None:
        self._loaded: dict[str, Expected] = {}

    @user_operation(lambda self, name: f"loading the checkpoint of projection {name!r}")
    def load(self, name: str) -> Steps[int]:
        latest = yield from steps.last(checkpoint_stream(name))
        if not latest:
            self._loaded[name] = StreamState.NO_STREAM
            return 0
        self._loaded[name] = latest[0].stream_position
        position: int = json.loads(latest[0].data)["position"]
        return position

    @user_operation(lambda self, name, *_, **__: f"saving the checkpoint of projection {name!r}")
    def save(self, name: str, position: int) -> Steps[None]:
        stream = checkpoint_stream(name)
        expected = self._loaded.pop(name, StreamState.ANY)
        record = internal_event(CHECKPOINT, {"position": position})
        if (yield from steps.append(stream, expected, [record])) is None:
            latest = yield from steps.last(stream)
            actual = latest[0].stream_position + 1 if latest else None
            seen = expected + 1 if isinstance(expected, int) else 0
            raise ConcurrentStreamWriteError(stream, seen, actual)
        if expected is StreamState.NO_STREAM:
            # Only the newest checkpoint matters: let a scavenge remove the others.
            yield from steps.set_metadata(stream, {"$maxCount": 1}, StreamState.ANY)

    @user_operation(lambda self: "reading the checkpoints")
    def positions(self) -> Steps[dict[str, int]]:
        found: dict[str, int] = {}
        # `$all` still holds older checkpoints of a stream until a scavenge: its order makes
        # the newest one win.
        for record in (yield from steps.read_all_of_streams(f"{re.escape(CHECKPOINT_PREFIX)}.*")):
            name = unescape(record.stream_name.removeprefix(CHECKPOINT_PREFIX))
            if name is not None:
                found[name] = json.loads(record.data)["position"]
        return found


class KurrentDBCheckpointStrategy(CheckpointStrategy):
    """Checkpoints in `es$checkpoint-<projection>` streams (`$maxCount` 1): `CheckpointSteps`
    run on a `KurrentDBClient`."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._steps = CheckpointSteps()

    def load(self, name: str) -> int:
        return self._connection.run(self._steps.load(name))

    def save(self, name: str, position: int) -> None:
        self._connection.run(self._steps.save(name, position))

    def positions(self) -> dict[str, int]:
        return self._connection.run(self._steps.positions())
