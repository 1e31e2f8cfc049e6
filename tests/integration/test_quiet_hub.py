"""A quiet hub: connected widgets and consoles cost MongoDB nothing while nobody writes.

Heartbeats and presence live in Redis (ADR 0032): with the periodic loops (outbox, durable
consumers, routing's sweep, the snooze and work-order sweeps) set far apart and no agent available
(the ACD's round reads the queues each tick then), consoles sending their heartbeats and widgets
holding their sockets make no MongoDB operation at all, counted with the server's own opcounters.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest
from redis.asyncio import Redis

from console.auth import SESSION_CACHE
from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.config import BotSettings, ConsumersSettings, OutboxSettings, SnoozeSettings, WorkOrdersSettings
from hub.domain.ids import ExternalId
from hub.domain.model import InboundMessage
from hub.storage.database import Db
from hub.supervisor import LoopState
from routing.service import RoutingService
from routing.store import agent_key
from tests import opcounts
from tests.clients import AgentClient, WidgetClient
from tests.conftest import eventually, make_settings

AGENTS = ("alice", "bob")
WIDGETS = 20
FAR_APART_S = 3600.0


@pytest.fixture
async def quiet_hub(mongo_url: str, redis_url: str, redis: Redis, db_name: str) -> AsyncIterator[RunningHub]:
    # Every loop that reads MongoDB on a period, far apart: the snooze sweep (every 15 s) and the
    # work-order sweep (30 s) were not, and a round of either fell into the counted rounds when the
    # machine was busy enough to stretch them over 15 s (1 operation instead of 0).
    settings = make_settings(db_name, sweep_s=FAR_APART_S, queues_reread_s=FAR_APART_S).model_copy(update={
        "outbox": OutboxSettings(poll_s=FAR_APART_S), "consumers": ConsumersSettings(poll_s=FAR_APART_S),
        "snooze": SnoozeSettings(poll_s=FAR_APART_S), "bot": BotSettings(idle_poll_s=FAR_APART_S),
        "work_orders": WorkOrdersSettings(sweep_s=FAR_APART_S)})
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as running:
        await load_demo(running.context.directory)
        yield running


async def _heartbeat_round(agents: list[AgentClient], redis: Redis) -> None:
    """Every console sends a heartbeat; returns once each reached the hub and refreshed presence in Redis."""
    beats = {a.agent["id"]: await redis.hget(agent_key(a.agent["id"]), "heartbeat") for a in agents}
    for agent in agents:
        assert agent.ws is not None
        await agent.ws.send_json({"type": "heartbeat"})

    async def all_beat() -> bool:
        now = {aid: await redis.hget(agent_key(aid), "heartbeat") for aid in beats}
        return all(now[aid] != beats[aid] for aid in beats)

    await eventually(all_beat)


async def test_heartbeats_of_connected_consoles_and_widgets_cost_no_mongodb_operation(
        quiet_hub: RunningHub, db: Db, redis: Redis) -> None:
    # Logged in and connected, not available: an available agent makes the ACD read the queues from
    # MongoDB on every tick (routing's assigner, not the connections; bench/README.md, quiet hub).
    # Each periodic loop has made its first round (a loop reports healthy after it).
    await eventually(lambda: all(loop.state in (LoopState.RUNNING, LoopState.STANDBY)
                                 for loop in quiet_hub.context.probes.loops()))
    agents = [await AgentClient(quiet_hub.base_url).login(name) for name in AGENTS]
    for agent in agents:
        await agent.connect()
    async with aiohttp.ClientSession() as http:
        widgets = [WidgetClient(quiet_hub.base_url, http) for _ in range(WIDGETS)]
        try:
            for widget in widgets:
                await widget.connect()
            # The log-ins and hellos leave a little work behind (a durable consumer woken by the
            # agents' presence reads the event table once): heartbeat rounds until one costs nothing.
            for _ in range(10):
                before = await opcounts.count(db)
                await _heartbeat_round(agents, redis)
                if await opcounts.count(db) == before:
                    break
            before = await opcounts.count(db)
            for _ in range(5):
                await _heartbeat_round(agents, redis)
            after = await opcounts.count(db)
        finally:
            for widget in widgets:
                await widget.close()
            for agent in agents:
                await agent.close()
    assert after - before == 0, f"{after - before} MongoDB operations in 5 heartbeat rounds of a quiet hub"


def _sms(text: str, external_id: str) -> InboundMessage:
    return InboundMessage(channel="sms", external_id=ExternalId(external_id), sender="+8613800138000", text=text,
                          received_at=datetime.now(UTC), meta={"to": "95598"})


async def test_a_customers_next_sms_in_an_open_conversation_reads_nothing(quiet_hub: RunningHub, db: Db) -> None:
    inbox = quiet_hub.context.inbox
    first = await inbox.accept_inbound(_sms("我家停电了", "kannel-q1"))
    # the first message's transitions wake the durable consumers once: let them settle
    reads = await opcounts.settled(db, opcounts.READS, tries=10)
    second = await inbox.accept_inbound(_sms("还没有来电", "kannel-q2"))
    assert await opcounts.reads(db) - reads == 0, "no contact (ADR 0058), open-conversation or resend lookup"
    assert second.conversation.id == first.conversation.id and not second.duplicate
    again = await inbox.accept_inbound(_sms("还没有来电", "kannel-q2"))  # Kannel resends: stored once
    assert again.duplicate and again.message.id == second.message.id
    assert await db["messages"].count_documents({"conversation_id": first.conversation.id}) == 2


async def test_an_available_agents_rounds_read_no_queue_list(quiet_hub: RunningHub, db: Db) -> None:
    """The ACD's rounds run every tick while an agent is available; the queue ids they look at are
    known to the process (read again every ``queues_reread_s``; a queue it enqueues into is known at
    once), not read from MongoDB on every tick."""
    routing = quiet_hub.context.acd
    assert isinstance(routing, RoutingService)
    agent = await AgentClient.online(quiet_hub.base_url, "alice")
    try:
        await eventually(lambda: routing.known_queues.looks > 0)  # a round that found her available
        looks, reads = routing.known_queues.looks, await opcounts.reads(db)
        await eventually(lambda: routing.known_queues.looks >= looks + 10)  # ten more rounds (tick 0.1 s)
        assert await opcounts.reads(db) - reads == 0, "rounds of an available agent read the queues every tick"
        received = await quiet_hub.context.inbox.accept_inbound(_sms("停电了", "kannel-q9"))
        assert await agent.take_offer() == received.conversation.id, "a queue work is put into is looked at"
    finally:
        await agent.close()


async def test_requests_of_one_session_that_miss_together_read_it_once(quiet_hub: RunningHub, db: Db) -> None:
    """An expired session-cache entry under a busy agent: the requests that find it missing at the
    same time share one look-up (the session and the agent, two reads), not two reads each (ADR 0059)."""
    agent = await AgentClient(quiet_hub.base_url).login("alice")
    try:
        cache = quiet_hub.app[SESSION_CACHE]
        cache.forget_agent(agent.agent["id"])  # as when her entry's five seconds are over
        reads = await opcounts.reads(db)
        answers = await asyncio.gather(*(agent.call("GET", "/api/me") for _ in range(30)))
        assert {a["agent"]["id"] for a in answers} == {agent.agent["id"]}
        assert await opcounts.reads(db) - reads == 2, "each request read the session and the agent for itself"
        reads = await opcounts.reads(db)
        await agent.call("GET", "/api/me")  # kept: the next request reads nothing
        assert await opcounts.reads(db) - reads == 0
    finally:
        await agent.close()
