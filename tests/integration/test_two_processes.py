"""Two hub processes share MongoDB and Redis: every conversation is assigned exactly once and
no agent ever holds more than its capacity, whichever process decides."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from hub.admin import create_agent, load_demo
from hub.storage.database import connect
from hub.storage.directory import MongoDirectory
from tests.clients import AgentClient, WidgetClient
from tests.conftest import eventually
from tests.processes import HubProcess

AGENTS = 6
CAPACITY = 2
CUSTOMERS = 30


@pytest.fixture
async def two_hubs(mongo_url: str, redis_url: str, redis: object, db_name: str, directory: MongoDirectory,
                   tmp_path: Path) -> AsyncIterator[tuple[HubProcess, HubProcess]]:
    await load_demo(directory)
    for i in range(AGENTS):
        await create_agent(directory, username=f"agent{i}", display_name=f"Agent {i}", role="agent",
                           password="northgrid-demo", skills=["general"], capacity={"webchat": CAPACITY})
    hubs = [HubProcess(mongo_url=mongo_url, redis_url=redis_url, db_name=db_name,
                       log_path=tmp_path / f"hub{i}.log", routing__tick_s="0.05") for i in range(2)]
    try:
        await asyncio.gather(*(h.start() for h in hubs))
        yield hubs[0], hubs[1]
    finally:
        for h in hubs:
            h.stop()


async def test_assignment_is_exactly_once_across_two_processes(
        two_hubs: tuple[HubProcess, HubProcess], mongo_url: str, db_name: str) -> None:
    hubs = list(two_hubs)
    consoles = [await AgentClient(hubs[i % 2].base_url).login(f"agent{i}") for i in range(AGENTS)]
    accepted: dict[str, list[str]] = collections.defaultdict(list)

    async def work(console: AgentClient) -> None:
        """Accept every offer; resolve each conversation shortly after, freeing capacity."""
        while True:
            frame = await console.next("offer", timeout=60)
            cid = frame["conversation"]["id"]
            await console.call("POST", f"/api/conversations/{cid}/accept")
            accepted[console.agent["id"]].append(cid)
            await asyncio.sleep(0.05)
            await console.call("POST", f"/api/conversations/{cid}/resolve")

    try:
        for console in consoles:
            await console.connect()
            await console.available()
        workers = [asyncio.create_task(work(c)) for c in consoles]
        async with aiohttp.ClientSession() as http:
            widgets = [WidgetClient(hubs[i % 2].base_url, http) for i in range(CUSTOMERS)]
            for widget in widgets:
                await widget.connect()
            sent = await asyncio.gather(*(w.say(f"customer {i} needs help") for i, w in enumerate(widgets)))
            conversation_ids = {m["conversation_id"] for m in sent}
            assert len(conversation_ids) == CUSTOMERS
            await eventually(lambda: sum(len(v) for v in accepted.values()) >= CUSTOMERS, timeout=90)
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    finally:
        for console in consoles:
            await console.close()

    all_accepted = [cid for cids in accepted.values() for cid in cids]
    assert sorted(all_accepted) == sorted(conversation_ids)  # each once, none lost
    assert len(accepted) > 1  # the work was spread over agents
    client = connect(mongo_url)
    try:
        events = await client[db_name]["events"].find(
            {"conversation_id": {"$in": sorted(conversation_ids)}}).to_list(None)
    finally:
        await client.close()
    assert_never_over_capacity(events)


def releases(event: dict) -> bool:
    return event["to_state"] in ("queued", "resolved") and event["from_state"] in ("offered", "assigned", "wrap_up")


def assert_never_over_capacity(events: list[dict]) -> None:
    """Replay the event table in order: per agent, offered+assigned conversations never exceed capacity.

    Timestamps have millisecond resolution; within one millisecond a release is replayed before
    an offer, which is the order Redis enforced (an offer needs the freed slot)."""
    events.sort(key=lambda e: (e["at"], 0 if releases(e) else 1))
    holding: dict[str, set[str]] = collections.defaultdict(set)
    assigned_count = collections.Counter()
    for event in events:
        cid, agent = event["conversation_id"], event.get("agent_id")
        if event["to_state"] in ("offered", "assigned") and agent:
            holding[agent].add(cid)
            assert len(holding[agent]) <= CAPACITY, f"{agent} over capacity at {event['at']}"
        if event["to_state"] == "assigned":
            assigned_count[cid] += 1
        if releases(event):
            for held in holding.values():
                held.discard(cid)
    assert set(assigned_count.values()) == {1}
