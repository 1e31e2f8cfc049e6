"""Find, take and hand on over real HTTP (issue 16 items 1 and 2; docs/api.md "Find, take and hand
on"): search in Chinese and English by text, phone and id within the visibility rule, views with
counts, labels, reopen; a pick by hand raced by two agents; a transfer to a named agent with a note
that is never offered back to its sender; bad input answered with a clear 4xx."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest

from hub.bootstrap import RunningHub
from tests.clients import AgentClient
from tests.conftest import eventually
from tests.integration.test_contacts import inbound

PHONE = "+8613911112222"


@pytest.fixture
async def staff(hub: RunningHub) -> AsyncIterator[dict[str, AgentClient]]:
    logged = {name: await AgentClient(hub.base_url).login(name) for name in ("alice", "bob", "chen", "sara", "tom")}
    yield logged
    for client in logged.values():
        await client.close()


async def search(client: AgentClient, q: str, view: str = "resolved", expect: int = 200) -> dict[str, object]:
    return await client.call("GET", f"/api/conversations?view={view}&q={quote(q)}", expect=expect)


def ids(found: dict[str, object]) -> list[str]:
    return [c["id"] for c in found["conversations"]]  # type: ignore[attr-defined,index]


async def test_search_views_labels_and_reopen_within_the_visibility_rule(
        hub: RunningHub, staff: dict[str, AgentClient]) -> None:
    alice, bob, sara, tom = staff["alice"], staff["bob"], staff["sara"], staff["tom"]
    await alice.connect()
    await alice.available()
    await inbound(hub, "sms", PHONE, "这个月电费太高了, my bill doubled")
    served = await alice.take_offer()
    await alice.call("POST", f"/api/conversations/{served}/resolve")
    await alice.call("POST", "/api/me/status", {"status": "away"})

    # Alice served it: a Chinese word, an English word, the phone (as customers give it) and the id find it.
    async def indexed() -> dict[str, object] | None:  # the "search" consumer indexes it after the resolve
        found = await search(alice, "电费")
        return found if ids(found) else None

    found = await eventually(indexed)
    assert ids(found) == [served], found
    assert found["counts"]["resolved"] == 1  # type: ignore[index]
    for query in ("BILL doubled", "139 1111 2222", served):
        assert ids(await search(alice, query)) == [served], query
    assert ids(await search(alice, "电量")) == []  # 电 and 量 are never neighbours there
    # Bob never served it: an agent sees no one else's finished work; the supervisor sees all.
    assert ids(await search(bob, "电费")) == []
    assert ids(await search(sara, "电费")) == [served]
    await search(tom, "电费", expect=403)  # trainers see no conversation

    # Labels: added, listed, filtered by; markup and control characters refused.
    assert (await alice.call("POST", f"/api/conversations/{served}/labels", {"label": " Billing  Dispute "}))[
        "labels"] == ["billing dispute"]
    assert "billing dispute" in (await sara.call("GET", "/api/labels"))["labels"]
    listed = await sara.call("GET", "/api/conversations?view=resolved&label=" + quote("billing dispute"))
    assert ids(listed) == [served] and listed["conversations"][0]["labels"] == ["billing dispute"]
    for bad in ("<b>x</b>", "a\u0007b", "x" * 41, "\"onmouseover=1"):
        await alice.call("POST", f"/api/conversations/{served}/labels", {"label": bad}, expect=400)
    await bob.call("POST", f"/api/conversations/{served}/labels", {"label": "mine"}, expect=403)
    assert (await alice.call("DELETE", f"/api/conversations/{served}/labels/{quote('billing dispute')}"))[
        "labels"] == []

    # Reopen: back in its queue with a reopened event; a second reopen is a conflict.
    reopened = await alice.call("POST", f"/api/conversations/{served}/reopen")
    assert reopened["conversation"]["state"] == "queued" and reopened["conversation"]["queue"] == "general"
    await alice.call("POST", f"/api/conversations/{served}/reopen", expect=409)
    events = await hub.context.conversations.events_of(served)
    assert events[-1]["type"] == "reopened" and events[-1]["actor"] == alice.agent["id"]
    queued = await sara.call("GET", "/api/conversations?view=queued")
    assert served in ids(queued) and queued["counts"]["queued"] >= 1

    # Bad input on the list: a clear 400 each, and nobody else harmed.
    for query in ("view=everything", "q=" + "x" * 201, "q=%00abc", "queue=%3Cscript%3E", "q=%ED%A0%80"):
        await sara.call("GET", f"/api/conversations?{query}", expect=400)
    await sara.call("POST", "/api/conversations/c_nosuchconversation/reopen", expect=404)
    await sara.call("GET", "/api/conversations?view=open")


async def test_two_agents_race_to_pick_one_queued_conversation_and_only_one_gets_it(
        hub: RunningHub, staff: dict[str, AgentClient]) -> None:
    alice, chen, bob = staff["alice"], staff["chen"], staff["bob"]
    for agent in (alice, chen, bob):
        await agent.connect()
        await agent.call("POST", "/api/me/status", {"status": "away"})  # nobody routed to: it waits
    waiting = await inbound(hub, "email", "race@example.org", "please call me back about my bill")
    conversation_id = waiting.conversation.id

    async def pick(agent: AgentClient, cid: str = conversation_id) -> int:
        async with agent.session.post(f"{hub.base_url}/api/conversations/{cid}/pick",
                                      headers={"X-CSRF-Token": agent.csrf}) as resp:
            return resp.status

    statuses = sorted(await asyncio.gather(pick(alice), pick(chen)))
    assert statuses == [200, 409], statuses
    doc = await hub.context.conversations.get_doc(conversation_id)
    assert doc["state"] == "assigned" and doc["agent_id"] in {alice.agent["id"], chen.agent["id"]}
    assigned = [e for e in await hub.context.conversations.events_of(conversation_id) if e["type"] == "assigned"]
    assert len(assigned) == 1 and assigned[0]["detail"] == {"by_hand": "picked"}
    winner = alice if doc["agent_id"] == alice.agent["id"] else chen
    assert await pick(bob) == 409  # assigned already
    await staff["sara"].call("POST", f"/api/conversations/{conversation_id}/pick", expect=403)  # supervisors watch

    # Capacity: the winner picks until she is full, and the next pick is refused.
    capacity = (await hub.context.directory.agent(winner.agent["id"])).capacity["email"]
    extra = [(await inbound(hub, "email", f"c{i}@example.org", "more mail")).conversation.id
             for i in range(capacity)]
    outcomes = [await pick(winner, cid) for cid in extra]
    assert outcomes == [200] * (capacity - 1) + [409], outcomes
    # Skills: moved to the complaints queue, it is not Alice's or Bob's to take (Chen has the skill).
    await winner.call("POST", f"/api/conversations/{conversation_id}/transfer", {"queue": "complaints"})
    assert await pick(alice) == 403 and await pick(bob) == 403


async def test_transfer_to_a_named_agent_with_a_note_is_never_offered_back(
        hub: RunningHub, staff: dict[str, AgentClient]) -> None:
    alice, chen, bob = staff["alice"], staff["chen"], staff["bob"]
    await alice.connect()
    await alice.available()
    await inbound(hub, "sms", "+8613600003333", "my meter is broken")
    conversation_id = await alice.take_offer()
    await chen.connect()
    await chen.available()
    await bob.connect()
    await bob.available()
    # Bad transfers first: unknown agent, a trainer, oneself, no target, an unknown queue.
    for body in ({"agent": "a_nosuchagent"}, {"agent": staff["tom"].agent["id"]}, {"agent": alice.agent["id"]},
                 {}, {"queue": "nosuchqueue"}, {"agent": chen.agent["id"], "note": "x" * 2001}):
        await alice.call("POST", f"/api/conversations/{conversation_id}/transfer", body, expect=400)
    await bob.call("POST", f"/api/conversations/{conversation_id}/transfer", {"agent": chen.agent["id"]}, expect=403)

    moved = await alice.call("POST", f"/api/conversations/{conversation_id}/transfer",
                             {"agent": chen.agent["id"], "note": "Customer is upset, meter 4711 replaced last week"})
    assert moved["offered_to"] == chen.agent["id"]
    offer = await chen.next("offer", conversation__id=conversation_id)
    assert offer["conversation"]["transfer"]["by_name"] == "Alice Wang" and offer["conversation"]["transfer"]["note"]
    seen = await chen.call("GET", f"/api/conversations/{conversation_id}")
    notes = [e["message"]["text"] for e in seen["timeline"] if e["kind"] == "message" and e["message"]["private"]]
    assert notes == ["Customer is upset, meter 4711 replaced last week"]
    # The queue's agents see it waiting, without the note.
    # Chen declines: it goes to Bob, never straight back to Alice, who is available with room.
    await chen.call("POST", f"/api/conversations/{conversation_id}/decline")
    offer = await bob.next("offer", conversation__id=conversation_id)
    doc = await hub.context.conversations.get_doc(conversation_id)
    assert doc["state"] == "offered" and doc["agent_id"] == bob.agent["id"]
    offered_to = [e["agent_id"] for e in await hub.context.conversations.events_of(conversation_id)
                  if e["type"] == "offered"]
    assert offered_to == [alice.agent["id"], chen.agent["id"], bob.agent["id"]]
