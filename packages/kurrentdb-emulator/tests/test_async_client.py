"""The asyncio client (``AsyncKurrentDBClient``) against the emulator."""

from __future__ import annotations

import asyncio

import pytest
from kurrentdb_emulator import Emulator
from kurrentdbclient import AsyncKurrentDBClient, NewEvent, StreamState
from kurrentdbclient.events import CaughtUp, Checkpoint
from kurrentdbclient.exceptions import WrongCurrentVersionError


def connect(emulator: Emulator) -> AsyncKurrentDBClient:
    """An async client for ``emulator`` (not yet connected)."""
    certificates = None if emulator.tls is None else emulator.tls.certificate_chain
    return AsyncKurrentDBClient(emulator.uri, root_certificates=certificates)


def test_async_client_appends_reads_and_subscribes(emulator: Emulator, stream_name: str) -> None:
    async def scenario() -> list[str]:
        client = connect(emulator)
        await client.connect()
        try:
            events = [NewEvent("A", b"{}"), NewEvent("B", b"{}")]
            await client.append_to_stream(
                stream_name, current_version=StreamState.NO_STREAM, events=events
            )
            assert [e.type for e in await client.get_stream(stream_name)] == ["A", "B"]
            received: list[str] = []
            async with await client.subscribe_to_stream(stream_name, timeout=10) as subscription:
                async for event in subscription:
                    received.append(event.type)
                    if event.type == "B":
                        await client.append_to_stream(
                            stream_name, current_version=1, events=[NewEvent("C", b"{}")]
                        )
                    if event.type == "C":
                        break
            return received
        finally:
            await client.close()

    assert asyncio.run(scenario()) == ["A", "B", "C"]


def test_async_client_reports_wrong_expected_version(emulator: Emulator, stream_name: str) -> None:
    async def scenario() -> None:
        client = connect(emulator)
        await client.connect()
        try:
            await client.append_to_stream(
                stream_name, current_version=StreamState.NO_STREAM, events=[NewEvent("A", b"{}")]
            )
            await client.append_to_stream(
                stream_name, current_version=5, events=[NewEvent("B", b"{}")]
            )
        finally:
            await client.close()

    with pytest.raises(WrongCurrentVersionError):
        asyncio.run(scenario())


def test_async_client_reads_all_subscribes_to_all_and_deletes(
    emulator: Emulator, stream_name: str
) -> None:
    async def scenario() -> tuple[list[str], list[str], dict[str, object]]:
        client = connect(emulator)
        await client.connect()
        try:
            start = await client.get_commit_position()
            await client.append_to_stream(
                stream_name,
                current_version=StreamState.NO_STREAM,
                events=[NewEvent("A", b"{}"), NewEvent("B", b"{}")],
            )
            read = await client.read_all(
                commit_position=start, filter_include=(stream_name,), filter_by_stream_name=True
            )
            in_all = [event.type async for event in read]
            subscription = await client.subscribe_to_all(
                commit_position=start,
                filter_include=(stream_name,),
                filter_by_stream_name=True,
                include_caught_up=True,
                include_checkpoints=True,
            )
            received: list[str] = []
            async for event in subscription:
                if isinstance(event, CaughtUp):
                    break
                if not isinstance(event, Checkpoint):
                    received.append(event.type)
            await subscription.stop()
            await client.delete_stream(stream_name, current_version=1)
            metadata, _ = await client.get_stream_metadata(stream_name)
            return in_all, received, metadata
        finally:
            await client.close()

    in_all, received, metadata = asyncio.run(scenario())
    assert in_all == ["A", "B"]
    assert received == ["A", "B"]
    truncate_before = metadata["$tb"]
    assert isinstance(truncate_before, int)
    assert truncate_before >= 2  # hides A and B
