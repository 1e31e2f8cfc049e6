"""Teams and agent states over real HTTP, MongoDB and Redis.

The demo's team ``north``: team leader Lena over Alice and Bob; Chen is in no team. A team leader
sees her members' conversations (with their private notes) and nobody else's, her team on the
supervisor overview, and their recorded states; admins create and change teams. Pauses carry a
reason code, are recorded as spans with their durations, and keep the agent out of routing.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from redis.asyncio import Redis

from hub.admin import create_agent, load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.clock import SystemClock
from hub.config import Settings
from hub.domain.ids import ExternalId
from hub.domain.model import InboundMessage
from hub.storage.database import Db
from tests.clients import AgentClient
from tests.integration.test_cli import hub_cli


async def inbound(hub: RunningHub, sender: str, text: str) -> str:
    received = await hub.context.inbox.accept_inbound(InboundMessage(
        channel="sms", external_id=ExternalId(f"test:{uuid.uuid4().hex}"), sender=sender, text=text,
        received_at=datetime.now(UTC)))
    return received.conversation.id


async def serve_once(agent: AgentClient, hub: RunningHub, sender: str, note: str) -> str:
    """A customer writes; ``agent`` (the only one available) takes it, writes a note, goes away."""
    await agent.connect()
    await agent.available()
    await inbound(hub, sender, "my bill is wrong")
    conversation_id = await agent.take_offer()
    await agent.reply(conversation_id, note, private=True)
    await agent.call("POST", "/api/me/status", {"status": "away"})
    return conversation_id


@pytest.fixture
async def staff(hub: RunningHub) -> AsyncIterator[dict[str, AgentClient]]:
    logged = {name: await AgentClient(hub.base_url).login(name)
              for name in ("alice", "bob", "chen", "lena", "sara", "admin")}
    yield logged
    for client in logged.values():
        await client.close()


async def ids(hub: RunningHub) -> dict[str, str]:
    return {a.username: a.id for a in await hub.context.directory.agents()}


async def test_a_team_leader_sees_her_members_conversations_and_no_other_teams(
        hub: RunningHub, staff: dict[str, AgentClient]) -> None:
    alices = await serve_once(staff["alice"], hub, "+8613800000001", "alice's note")
    chens = await serve_once(staff["chen"], hub, "+8613800000002", "chen's note")
    lena = staff["lena"]

    seen = await lena.call("GET", f"/api/conversations/{alices}")  # her member's: 200, notes included
    assert {e["message"]["text"] for e in seen["timeline"] if e["kind"] == "message"} >= {"alice's note"}
    answer = await lena.call("GET", f"/api/conversations/{chens}", expect=403)  # not in her team
    assert answer["error"]["code"] == "forbidden"
    await lena.call("POST", f"/api/conversations/{chens}/typing", {"active": True}, expect=403)
    # Seeing is not holding: she cannot answer in her member's conversation.
    await lena.call("POST", f"/api/conversations/{alices}/messages", {"text": "hello"}, expect=403)
    await staff["bob"].call("GET", f"/api/conversations/{alices}", expect=403)  # a member is an agent

    # The overview: her team's members only; supervisors see everyone, agents nothing.
    who = await ids(hub)
    rows = (await lena.call("GET", "/api/supervisor/overview"))["agents"]
    assert {r["username"] for r in rows} == {"alice", "bob"}
    assert {r["username"] for r in (await staff["sara"].call("GET", "/api/supervisor/overview"))["agents"]} >= {
        "alice", "bob", "chen", "lena", "sara"}
    await staff["alice"].call("GET", "/api/supervisor/overview", expect=403)
    await lena.connect()  # her socket's overview frames: her team too
    frame = await lena.next("overview")
    assert {r["username"] for r in frame["overview"]["agents"]} == {"alice", "bob"}
    teams = (await lena.call("GET", "/api/teams"))["teams"]
    assert [(t["id"], t["leader"]["id"], sorted(m["username"] for m in t["members"])) for t in teams] == [
        ("north", who["lena"], ["alice", "bob"])]
    await staff["chen"].call("GET", "/api/teams", expect=403)


async def test_admins_create_and_change_teams(hub: RunningHub, staff: dict[str, AgentClient]) -> None:
    await create_agent(hub.context.directory, username="tina", display_name="Tina Leader", role="team_leader",
                       password="long-enough-pw", skills=["general"], capacity={"webchat": 2})
    admin, sara = staff["admin"], staff["sara"]
    body = {"id": "south", "name": "Team South", "leader": "tina", "members": ["chen"]}
    await sara.call("POST", "/api/teams", body, expect=403)  # admins only
    await staff["lena"].call("POST", "/api/teams", body, expect=403)
    created = (await admin.call("POST", "/api/teams", body))["team"]
    assert created["name"] == "Team South" and [m["username"] for m in created["members"]] == ["chen"]

    taken = await admin.call("POST", "/api/teams", {**body, "members": ["chen", "alice"]}, expect=400)
    assert "already in team north" in taken["error"]["message"]
    not_a_leader = await admin.call("POST", "/api/teams", {**body, "id": "west", "leader": "chen"}, expect=400)
    assert "team leader" in not_a_leader["error"]["message"]
    await admin.call("POST", "/api/teams", {**body, "members": ["nobody"]}, expect=400)
    await admin.call("PUT", "/api/teams/nowhere", {"name": "x"}, expect=404)
    await admin.call("PUT", "/api/teams/north", {}, expect=400)

    # Bob moves from north to south: Lena no longer sees his live conversation, Tina does.
    await admin.call("PUT", "/api/teams/north", {"members": ["alice"]})
    changed = (await admin.call("PUT", "/api/teams/south", {"members": ["chen", "bob"]}))["team"]
    assert sorted(m["username"] for m in changed["members"]) == ["bob", "chen"]
    bobs = await serve_once(staff["bob"], hub, "+8613800000003", "bob's note")
    lena = await AgentClient(hub.base_url).login("lena")  # a new session: no cached directory entry
    tina = await AgentClient(hub.base_url).login("tina", "long-enough-pw")
    try:
        await lena.call("GET", f"/api/conversations/{bobs}", expect=403)
        await tina.call("GET", f"/api/conversations/{bobs}")
        rows = (await tina.call("GET", "/api/supervisor/overview"))["agents"]
        assert {r["username"] for r in rows} == {"bob", "chen"}
    finally:
        await lena.close()
        await tina.close()
    listed = {t["id"]: t for t in (await sara.call("GET", "/api/teams"))["teams"]}
    assert set(listed) == {"north", "south"}


async def test_the_cli_creates_and_lists_teams(hub: RunningHub, mongo_url: str, settings: Settings) -> None:
    done = hub_cli(mongo_url, settings.mongo_db, "team", "create", "north", "--name", "North again",
                   "--leader", "lena", "--members", "alice,bob,chen")
    assert done.returncode == 0, done.stderr
    assert "north" in done.stdout and "alice,bob,chen" in done.stdout
    listed = hub_cli(mongo_url, settings.mongo_db, "team", "list")
    assert listed.returncode == 0 and "North again" in listed.stdout
    team = await hub.context.directory.team("north")
    assert team.name == "North again" and len(team.member_ids) == 3
    refused = hub_cli(mongo_url, settings.mongo_db, "team", "create", "x", "--name", "X", "--leader", "alice")
    assert refused.returncode == 2 and "team leader" in refused.stderr


# -- agent states ---------------------------------------------------------------------------------

class SteppedClock:
    """The system clock plus an offset the test moves forward: minutes pass in a test of seconds."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return SystemClock().now() + self.offset


@pytest.fixture
async def stepped(settings: Settings, mongo_url: str, redis_url: str,
                  redis: Redis) -> AsyncIterator[tuple[RunningHub, SteppedClock]]:
    clock = SteppedClock()
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url, clock=clock) as running:
        await load_demo(running.context.directory)
        yield running, clock


async def test_pauses_are_recorded_with_their_reasons_and_durations(
        stepped: tuple[RunningHub, SteppedClock], db: Db) -> None:
    hub, clock = stepped
    alice, lena, sara, chen = [await AgentClient(hub.base_url).login(n) for n in ("alice", "lena", "sara", "chen")]
    try:
        reasons = {r["code"]: r["kind"] for r in (await alice.call("GET", "/api/agent_states/reasons"))["reasons"]}
        assert reasons["lunch"] == "rest" and reasons["training"] == "productive"
        assert reasons["after_call_work"] == "productive"
        await alice.call("POST", "/api/me/status", {"status": "paused"}, expect=400)  # a pause needs a reason
        await alice.call("POST", "/api/me/status", {"status": "paused", "reason": "nap"}, expect=400)
        await alice.call("POST", "/api/me/status", {"status": "away", "reason": "lunch"}, expect=400)

        steps = [({"status": "available"}, 60), ({"status": "paused", "reason": "lunch"}, 30),
                 ({"status": "paused", "reason": "training"}, 45), ({"status": "away"}, 10),
                 ({"status": "available"}, 0)]
        for change, minutes in steps:
            me = (await alice.call("POST", "/api/me/status", change))["agent"]
            assert (me["status"], me["pause_reason"]) == (change["status"], change.get("reason"))
            clock.offset += timedelta(minutes=minutes)
        await alice.call("POST", "/api/me/status", {"status": "available"})  # the same again: no new span
        await chen.call("POST", "/api/me/status", {"status": "paused", "reason": "break"})

        stored = [d async for d in db["agent_states"].find({"agent_id": alice.agent["id"]}).sort("from", 1)]
        assert [(d["state"], d["reason"], d["kind"]) for d in stored] == [
            ("available", None, None), ("paused", "lunch", "rest"), ("paused", "training", "productive"),
            ("away", None, None), ("available", None, None)]
        assert all(d["to"] == after["from"] for d, after in pairwise(stored))
        assert stored[-1]["to"] is None

        report = await sara.call("GET", "/api/agent_states?hours=24")
        mine = report["totals"][alice.agent["id"]]
        assert mine["by_state"]["available"] == pytest.approx(60 * 60, abs=5)
        assert mine["by_state"]["paused:lunch"] == pytest.approx(30 * 60, abs=5)
        assert mine["by_state"]["paused:training"] == pytest.approx(45 * 60, abs=5)
        assert mine["by_state"]["away"] == pytest.approx(10 * 60, abs=5)
        assert mine["by_kind"] == {"rest": pytest.approx(30 * 60, abs=5), "productive": pytest.approx(45 * 60, abs=5)}
        assert chen.agent["id"] in report["totals"]
        lunch = next(s for s in report["spans"] if s["reason"] == "lunch")
        assert lunch["kind"] == "rest" and lunch["seconds"] == pytest.approx(30 * 60, abs=5)

        team = await lena.call("GET", "/api/agent_states?hours=24")  # her team only: not Chen
        assert alice.agent["id"] in team["totals"] and chen.agent["id"] not in team["totals"]
        await alice.call("GET", "/api/agent_states", expect=403)
        rows = {r["username"]: r for r in (await lena.call("GET", "/api/supervisor/overview"))["agents"]}
        assert rows["alice"]["status_since"] is not None and rows["alice"]["pause_reason"] is None
    finally:
        for client in (alice, lena, sara, chen):
            await client.close()


async def test_routing_offers_nothing_to_a_paused_agent_whatever_the_reason(hub: RunningHub) -> None:
    alice = await AgentClient.online(hub.base_url, "alice")
    chen = await AgentClient.online(hub.base_url, "chen")
    try:
        for reason in ("after_call_work", "training", "lunch"):
            await alice.call("POST", "/api/me/status", {"status": "paused", "reason": reason})
            conversation_id = await inbound(hub, f"+86139{uuid.uuid4().int % 10**8:08d}", "hello")
            offer = await chen.next("offer", conversation__id=conversation_id)  # Chen, available, gets it
            assert offer["conversation"]["id"] == conversation_id
            await chen.call("POST", f"/api/conversations/{conversation_id}/accept")
            await chen.call("POST", f"/api/conversations/{conversation_id}/resolve")
        # Chen pauses too: the next conversation waits in line until Alice is available again.
        await chen.call("POST", "/api/me/status", {"status": "paused", "reason": "break"})
        waiting = await inbound(hub, "+8613900000099", "anyone?")
        assert (await hub.context.conversations.get_doc(waiting))["state"] == "queued"
        await alice.call("POST", "/api/me/status", {"status": "available"})
        offer = await alice.next("offer", conversation__id=waiting)
        assert offer["conversation"]["id"] == waiting
    finally:
        await alice.close()
        await chen.close()
