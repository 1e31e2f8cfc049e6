"""A Redis outage never holds up a customer's acknowledgement: the message is stored in MongoDB
first, bus events wait in the process's send queue, the rate limiter falls back to a local bucket
without waiting, and a conversation that could not be enqueued is put in line by routing's sweep
once Redis answers again."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.config import RoutingSettings
from hub.embedded import RunningService, start_redis, stop
from hub.storage.database import Db
from tests.clients import AgentClient, WidgetClient
from tests.conftest import make_settings

# Well below what a Redis call may take while Redis is frozen (socket timeout 5 s, then retries):
# an acknowledgement that waited for Redis at all misses it.
ACK_DEADLINE_S = 3.0


@pytest.fixture
def own_redis(artifacts: Path) -> Iterator[RunningService]:
    """A redis-server of this test alone: it is frozen and thawed."""
    service = start_redis(None, artifacts / "redis-outage.log")
    try:
        yield service
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(service.process.pid, signal.SIGCONT)
        stop(service)


@pytest.fixture
async def outage_hub(own_redis: RunningService, mongo_url: str, db_name: str) -> AsyncIterator[RunningHub]:
    base = make_settings(db_name)
    settings = base.model_copy(update={"routing": base.routing.model_copy(update={"sweep_s": 1.0})})
    assert isinstance(settings.routing, RoutingSettings)
    async with running_hub(settings, mongo_url=mongo_url, redis_url=own_redis.url) as running:
        await load_demo(running.context.directory)
        yield running


async def _heartbeats(agent: AgentClient) -> None:
    """What the console does every 10 s."""
    assert agent.ws is not None
    while True:
        await agent.ws.send_json({"type": "heartbeat"})
        await asyncio.sleep(1.0)


async def _acked(widget: WidgetClient, texts: list[str]) -> list[str]:
    """Send each text and wait for its ack within the deadline; returns what came back."""
    got = []
    for text in texts:
        client_id = await widget.send(text)
        frame = await widget.next(timeout=ACK_DEADLINE_S)
        while frame["type"] not in ("ack", "error"):
            frame = await widget.next(timeout=ACK_DEADLINE_S)
        got.append("ack" if frame["type"] == "ack" and frame["client_id"] == client_id else str(frame))
    return got


async def test_acks_do_not_wait_for_a_frozen_redis_and_routing_catches_up(
        outage_hub: RunningHub, own_redis: RunningService, db: Db) -> None:
    alice = await AgentClient.online(outage_hub.base_url, "alice")
    try:
        async with aiohttp.ClientSession() as http:
            talking = WidgetClient(outage_hub.base_url, http)
            await talking.connect()
            await talking.say("my bill is wrong")
            held = await alice.take_offer()
            newcomer = WidgetClient(outage_hub.base_url, http)
            await newcomer.connect()

            os.kill(own_redis.process.pid, signal.SIGSTOP)  # Redis stops answering; connections stay open
            try:
                assert await _acked(talking, [f"still there? {n}" for n in range(5)]) == ["ack"] * 5
                assert await _acked(newcomer, ["the power is out on my street"]) == ["ack"]
            finally:
                os.kill(own_redis.process.pid, signal.SIGCONT)

            assert await db["messages"].count_documents({"conversation_id": held, "inbound": True}) == 6
            # The newcomer's conversation could not be enqueued while Redis was frozen; it is offered
            # once Redis answers again (the sweep puts it in line), and nothing was lost.
            offer = await alice.next("offer", timeout=30)
            assert offer["conversation"]["id"] != held
            assert (await _acked(talking, ["thanks"])) == ["ack"]
    finally:
        await alice.close()


async def test_a_redis_restart_that_lost_everything_is_rebuilt_and_customers_keep_talking(
        outage_hub: RunningHub, own_redis: RunningService, db: Db, artifacts: Path) -> None:
    alice = await AgentClient.online(outage_hub.base_url, "alice")
    try:
        async with aiohttp.ClientSession() as http:
            widget = WidgetClient(outage_hub.base_url, http)
            await widget.connect()
            await widget.say("hello")
            await alice.take_offer()
            port = int(own_redis.url.rsplit(":", 1)[1].split("/")[0])
            stop(own_redis)  # gone: connections refused
            assert await _acked(widget, [f"are you there {n}" for n in range(3)]) == ["ack"] * 3
            restarted = start_redis(None, artifacts / "redis-outage.log", port=port)  # empty, same port
            try:
                assert await _acked(widget, ["back?"]) == ["ack"]
                second = WidgetClient(outage_hub.base_url, http)
                await second.connect()
                asked = await second.say("a new question after the restart")
                # Routing rebuilds its state from MongoDB (alice's load included) and her console's
                # heartbeats (every 10 s; here every second) restore her presence, whichever comes
                # first: the new conversation is offered to her.
                heartbeats = asyncio.create_task(_heartbeats(alice))
                try:
                    offer = await alice.next("offer", timeout=30, conversation__id=asked["conversation_id"])
                finally:
                    heartbeats.cancel()
                assert offer["type"] == "offer"
            finally:
                stop(restarted)
    finally:
        await alice.close()
