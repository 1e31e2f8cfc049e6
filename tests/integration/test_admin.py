"""Administration over real HTTP, MongoDB and Redis (issue 16 items 3 and 7).

Admins create and change agents, queues and wrap-up codes; the change reaches routing at once (an
agent given a skill while present is offered the waiting conversation that needs it); supervisors
set an agent's status; every change is in the audit trail (no secret in it); agents get 403 and
bad input a clear 400. An agent who lets offers time out repeatedly is paused by the hub with the
reason ``missed_offers``, and her console is told.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.config import AgentStatesSettings, ConsumersSettings
from hub.domain.ids import AgentStatus, ExternalId
from hub.domain.model import InboundMessage
from tests.clients import AgentClient
from tests.conftest import eventually, make_settings

NEW_AGENT = {"username": "dina", "display_name": "Dina Zhang", "role": "agent", "password": "dina-secret-1",
             "skills": ["billing"], "capacity": {"sms": 2, "webchat": 2}}


async def inbound(hub: RunningHub, text: str) -> str:
    received = await hub.context.inbox.accept_inbound(InboundMessage(
        channel="sms", external_id=ExternalId(f"test:{uuid.uuid4().hex}"),
        sender=f"+8613{uuid.uuid4().int % 10**9:09d}", text=text, received_at=datetime.now(UTC)))
    return received.conversation.id


@pytest.fixture
async def staff(hub: RunningHub) -> AsyncIterator[dict[str, AgentClient]]:
    logged = {name: await AgentClient(hub.base_url).login(name) for name in ("alice", "sara", "admin")}
    yield logged
    for client in logged.values():
        await client.close()


async def test_admins_manage_agents_queues_and_codes_live_and_audited(
        hub: RunningHub, staff: dict[str, AgentClient]) -> None:
    admin, sara, alice = staff["admin"], staff["sara"], staff["alice"]
    # Roles: an agent may do none of it; a supervisor lists agents and sets statuses only.
    for method, path, payload in (("POST", "/api/agents", NEW_AGENT), ("PATCH", "/api/agents/bob", {"skills": []}),
                                  ("PUT", "/api/queues/x", {"name": "X", "skills": []}),
                                  ("PUT", "/api/wrap_up_codes/x", {"label": "X"}), ("GET", "/api/audit", None),
                                  ("GET", "/api/admin/agents", None),
                                  ("POST", "/api/agents/bob/status", {"status": "away"})):
        await alice.call(method, path, payload, expect=403)
    await sara.call("POST", "/api/agents", NEW_AGENT, expect=403)
    await sara.call("GET", "/api/audit", expect=403)
    # Bad input: a clear 400 each.
    for bad in ({**NEW_AGENT, "username": "<b>x</b>"}, {**NEW_AGENT, "capacity": {"fax": 1}},
                {**NEW_AGENT, "capacity": {"sms": 999}}, {**NEW_AGENT, "skills": ["Bad Skill"]},
                {**NEW_AGENT, "password": "short"}, {**NEW_AGENT, "role": "king"}, {**NEW_AGENT, "display_name": ""}):
        error = await admin.call("POST", "/api/agents", bad, expect=400)
        assert error["error"]["code"] == "invalid_input", error
    await admin.call("PATCH", "/api/agents/bob", {}, expect=400)
    await admin.call("PATCH", "/api/agents/nobody", {"skills": []}, expect=404)
    await admin.call("PATCH", "/api/agents/admin", {"role": "agent"}, expect=400)  # not her own admin role
    await admin.call("PUT", "/api/queues/bad%20id", {"name": "X", "skills": []}, expect=400)
    await admin.call("PUT", "/api/wrap_up_codes/ok", {"label": "\ud800"}, expect=400)

    created = (await admin.call("POST", "/api/agents", NEW_AGENT, expect=201))["agent"]
    assert created["skills"] == ["billing"] and created["capacity"]["sms"] == 2 and created["capacity"]["voice"] == 0
    await admin.call("POST", "/api/agents", NEW_AGENT, expect=400)  # taken
    # Dina works billing only: a general conversation waits, then her new skill brings it to her, live.
    dina = await AgentClient(hub.base_url).login("dina", NEW_AGENT["password"])
    try:
        await dina.connect()
        await dina.available()
        waiting = await inbound(hub, "my meter reading looks wrong")
        changed = (await admin.call("PATCH", "/api/agents/dina", {"skills": ["billing", "general"],
                                                                  "display_name": "Dina Z."}))["agent"]
        assert changed["skills"] == ["billing", "general"] and changed["display_name"] == "Dina Z."
        offer = await dina.next("offer", conversation__id=waiting)
        assert offer["conversation"]["id"] == waiting
    finally:
        await dina.close()
    await admin.call("PUT", "/api/queues/meters", {"name": "Meters", "skills": [], "hours": {"mon": "25:00-26:00"}},
                     expect=400)
    queue = (await admin.call("PUT", "/api/queues/meters", {"name": "Meters", "skills": ["meters"], "priority": 3,
                                                            "hours": {"mon": "08:00-20:00"}}))
    assert queue["queue"] == {"id": "meters", "name": "Meters", "skills": ["meters"], "priority": 3,
                              "hours": {"mon": "08:00-20:00"}}
    kept = (await admin.call("PUT", "/api/queues/meters", {"name": "Meter readings", "skills": ["meters"]}))["queue"]
    assert kept["hours"] == {"mon": "08:00-20:00"}  # hours not given: kept
    assert any(q["id"] == "meters" for q in (await alice.call("GET", "/api/queues"))["queues"])
    await admin.call("PUT", "/api/wrap_up_codes/meter_fixed", {"label": "Meter fixed"})
    assert {"code": "meter_fixed", "label": "Meter fixed"} in (await alice.call("GET", "/api/wrap_up_codes"))["codes"]
    await admin.call("PUT", "/api/wrap_up_codes/old_code", {"label": "Old"})
    await sara.call("DELETE", "/api/wrap_up_codes/old_code", expect=403)  # admins only, as saving
    assert (await admin.call("DELETE", "/api/wrap_up_codes/old_code")) == {"deleted": "old_code"}
    await admin.call("DELETE", "/api/wrap_up_codes/old_code", expect=404)
    assert "old_code" not in {c["code"] for c in (await alice.call("GET", "/api/wrap_up_codes"))["codes"]}
    await admin.call("POST", "/api/agents/dina/password", {"new_password": "another-secret-2"})
    # A supervisor sets an agent's status (a pause needs a configured reason).
    await sara.call("POST", "/api/agents/bob/status", {"status": "paused", "reason": "nap"}, expect=400)
    paused = (await sara.call("POST", "/api/agents/bob/status", {"status": "paused", "reason": "training"}))["agent"]
    assert paused["status"] == "paused" and paused["pause_reason"] == "training"
    listed = {a["username"]: a for a in (await sara.call("GET", "/api/admin/agents"))["agents"]}
    assert listed["bob"]["status"] == "paused" and listed["dina"]["display_name"] == "Dina Z."

    entries = (await admin.call("GET", "/api/audit"))["entries"]
    actions = [(e["action"], e["target"], e["actor_name"]) for e in entries]
    for expected in (("agent.created", "dina", "admin"), ("agent.changed", "dina", "admin"),
                     ("queue.saved", "meters", "admin"), ("wrap_up_code.saved", "meter_fixed", "admin"),
                     ("wrap_up_code.deleted", "old_code", "admin"),
                     ("agent.password_reset", "dina", "admin"), ("agent.status", "bob", "sara")):
        assert expected in actions, (expected, actions)
    change = next(e for e in entries if e["action"] == "agent.changed")
    assert change["before"]["skills"] == ["billing"] and change["after"]["skills"] == ["billing", "general"]
    saves = [e for e in entries if e["action"] == "queue.saved"]  # the newest first
    assert saves[1]["before"] is None and saves[0]["before"]["hours"] == {"mon": "08:00-20:00"}
    assert saves[0]["after"]["name"] == "Meter readings"
    text = json.dumps(entries)
    assert "secret" not in text and "password_hash" not in text and "argon2" not in text
    await admin.call("GET", "/api/audit?limit=0", expect=400)


@pytest.fixture
async def impatient_hub(mongo_url: str, redis_url: str, redis: Redis, db_name: str) -> AsyncIterator[RunningHub]:
    """Offers time out after 0.4 s and come straight back; two misses in a row set an agent away."""
    settings = make_settings(db_name, offer_timeout_s=0.4, reoffer_after_s=0.0).model_copy(update={
        "agent_states": AgentStatesSettings(missed_offers_limit=2),
        "consumers": ConsumersSettings(poll_s=0.1, gather_s=0.0)})
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as running:
        await load_demo(running.context.directory)
        yield running


async def test_an_agent_who_lets_offers_time_out_is_set_away_with_the_reason(impatient_hub: RunningHub) -> None:
    hub = impatient_hub
    alice = await AgentClient.online(hub.base_url, "alice")
    sara = await AgentClient(hub.base_url).login("sara")
    try:
        conversation = await inbound(hub, "is anyone there?")
        await alice.next("offer", conversation__id=conversation)
        frame = await alice.next("presence", timeout=15, pause_reason="missed_offers")
        assert frame["status"] == "paused"
        agent = await hub.context.directory.agent(alice.agent["id"])
        assert agent.status is AgentStatus.PAUSED and agent.pause_reason == "missed_offers"
        listed = {a["username"]: a for a in (await sara.call("GET", "/api/admin/agents"))["agents"]}
        assert (listed["alice"]["status"], listed["alice"]["pause_reason"]) == ("paused", "missed_offers")
        # Paused, she is offered nothing more: the conversation waits in its queue.
        await eventually(lambda: _queued(hub, conversation))
        # Back to work by her own choice: the streak starts again, the offer comes back.
        await alice.available()
        await alice.next("offer", conversation__id=conversation)
    finally:
        await alice.close()
        await sara.close()


async def _queued(hub: RunningHub, conversation_id: str) -> bool:
    return (await hub.context.conversations.get(conversation_id)).state.value == "queued"
