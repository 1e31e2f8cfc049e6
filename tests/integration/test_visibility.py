"""One visibility rule (hub.domain.visibility) over real HTTP, for every role.

The scene: agent Bob served a customer once (his conversation is resolved, with his private note);
the customer writes again and agent Alice holds the new conversation, with her private note. Chen is
another agent who served neither; Sara a supervisor, Tom a trainer, ``admin`` an admin. A second
customer waits in the queue with a supervisor's note.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest

from hub.bootstrap import RunningHub
from tests.clients import AgentClient
from tests.integration.test_contacts import PHONE, inbound

STAFF = ("alice", "bob", "chen", "sara", "tom", "admin")
OTHER_EMAIL = "ann@example.org"


@dataclass(frozen=True, slots=True)
class Scene:
    contact: str  # the customer Bob served and Alice serves now
    old: str  # Bob's resolved conversation
    live: str  # Alice's assigned conversation
    queued: str  # another customer's conversation, waiting in "general"


@pytest.fixture
async def staff(hub: RunningHub) -> AsyncIterator[dict[str, AgentClient]]:
    logged = {name: await AgentClient(hub.base_url).login(name) for name in STAFF}
    yield logged
    for client in logged.values():
        await client.close()


async def serve_once(agent: AgentClient, hub: RunningHub, text: str, note: str) -> str:
    """The customer writes; ``agent`` (the only one available) takes it and writes a private note."""
    await agent.connect()
    await agent.available()
    await inbound(hub, "sms", PHONE, text)
    conversation_id = await agent.take_offer()
    await agent.reply(conversation_id, note, private=True)
    return conversation_id


@pytest.fixture
async def scene(hub: RunningHub, staff: dict[str, AgentClient]) -> Scene:
    alice, bob, sara = staff["alice"], staff["bob"], staff["sara"]
    old = await serve_once(bob, hub, "first visit", "bob's note")
    await bob.call("POST", f"/api/conversations/{old}/resolve")
    await bob.call("POST", "/api/me/status", {"status": "away"})
    live = await serve_once(alice, hub, "second visit", "alice's note")
    assert live != old
    await alice.call("POST", "/api/me/status", {"status": "away"})
    waiting = await inbound(hub, "email", OTHER_EMAIL, "waiting in line")
    await sara.reply(waiting.conversation.id, "sara's queue note", private=True)
    contact = (await hub.context.conversations.get_doc(live))["contact_id"]
    return Scene(contact=contact, old=old, live=live, queued=waiting.conversation.id)


def texts(timeline: dict[str, object]) -> set[str]:
    return {m["text"] for m in timeline["messages"]}  # type: ignore[attr-defined]


# -- the bug, as reported -------------------------------------------------------------------------

async def test_an_agent_who_once_served_a_contact_cannot_reach_another_agents_live_conversation(
        hub: RunningHub, staff: dict[str, AgentClient], scene: Scene) -> None:
    bob = staff["bob"]
    await bob.call("GET", f"/api/conversations/{scene.live}", expect=403)
    timeline = await bob.call("GET", f"/api/contacts/{scene.contact}/timeline")
    assert texts(timeline) == {"first visit", "bob's note"}, "Alice's live conversation leaked into the timeline"
    assert [c["id"] for c in timeline["conversations"]] == [scene.old]
    profile = await bob.call("GET", f"/api/contacts/{scene.contact}")
    assert [c["id"] for c in profile["contact"]["conversations"]] == [scene.old]
    assert profile["contact"]["open_conversation"] is None and profile["contact"]["may_edit"] is False
    await bob.call("PATCH", f"/api/contacts/{scene.contact}", {"display_name": "Someone else"}, expect=403)
    await bob.call("POST", f"/api/contacts/{scene.contact}/identities",
                   {"channel": "email", "address": "bob@example.org"}, expect=403)
    seen_by_sara = (await staff["sara"].call("GET", f"/api/contacts/{scene.contact}"))["contact"]
    assert "email" not in seen_by_sara["identities"] and seen_by_sara["display_name"] != "Someone else"


# -- every role -----------------------------------------------------------------------------------

# (conversation, who) -> the texts they see in GET /api/conversations/{id}; None: 403.
VIEW: dict[str, dict[str, set[str] | None]] = {
    "live": {"alice": {"second visit", "alice's note"}, "bob": None, "chen": None,
             "sara": {"second visit", "alice's note"}, "tom": None, "admin": {"second visit", "alice's note"}},
    "old": {"alice": None, "bob": {"first visit", "bob's note"}, "chen": None,
            "sara": {"first visit", "bob's note"}, "tom": None, "admin": {"first visit", "bob's note"}},
    # Queued in "general": every agent may look (without notes); the note is for who takes it.
    "queued": {"alice": {"waiting in line"}, "bob": {"waiting in line"}, "chen": {"waiting in line"},
               "sara": {"waiting in line", "sara's queue note"}, "tom": None,
               "admin": {"waiting in line", "sara's queue note"}},
}


async def test_conversation_view_for_every_role(staff: dict[str, AgentClient], scene: Scene) -> None:
    for which, expected in VIEW.items():
        conversation_id = getattr(scene, which)
        for who, seen in expected.items():
            client = staff[who]
            if seen is None:
                answer = await client.call("GET", f"/api/conversations/{conversation_id}", expect=403)
                assert answer["error"]["code"] == "forbidden", (which, who)
                await client.call("POST", f"/api/conversations/{conversation_id}/typing", {"active": True},
                                  expect=403)
                continue
            answer = await client.call("GET", f"/api/conversations/{conversation_id}")
            got = {e["message"]["text"] for e in answer["timeline"] if e["kind"] == "message"}
            assert got == seen, (which, who)
    await staff["bob"].call("GET", "/api/conversations/c_nope", expect=404)


async def test_inbox_follows_the_rule(staff: dict[str, AgentClient], scene: Scene) -> None:
    for who, assigned, queued in (("alice", [scene.live], [scene.queued]), ("bob", [], [scene.queued]),
                                  ("chen", [], [scene.queued]), ("tom", [], [])):
        inbox = await staff[who].call("GET", "/api/inbox")
        assert [c["id"] for c in inbox["assigned"]] == assigned, who
        assert [c["id"] for c in inbox["queued"]] == queued, who


# who -> (conversations in the contact's timeline, texts there); None: 403 on profile and timeline.
TIMELINE: dict[str, tuple[set[str], set[str]] | None] = {
    "alice": ({"live"}, {"second visit", "alice's note"}),
    "bob": ({"old"}, {"first visit", "bob's note"}),
    "chen": None,
    "sara": ({"old", "live"}, {"first visit", "bob's note", "second visit", "alice's note"}),
    "tom": None,
    "admin": ({"old", "live"}, {"first visit", "bob's note", "second visit", "alice's note"}),
}


async def test_contact_profile_timeline_and_search_for_every_role(
        staff: dict[str, AgentClient], scene: Scene) -> None:
    ids = {scene.old: "old", scene.live: "live"}
    for who, expected in TIMELINE.items():
        client = staff[who]
        found = await client.call("GET", f"/api/contacts?q={quote(PHONE)}", expect=403 if who == "tom" else 200)
        if expected is None:
            for tail in ("", "/timeline", "/audit"):
                await client.call("GET", f"/api/contacts/{scene.contact}{tail}", expect=403)
            assert who == "tom" or found["contacts"] == [], who
            continue
        conversations, seen = expected
        assert [c["id"] for c in found["contacts"]] == [scene.contact], who
        timeline = await client.call("GET", f"/api/contacts/{scene.contact}/timeline")
        assert {ids[c["id"]] for c in timeline["conversations"]} == conversations, who
        assert texts(timeline) == seen, who
        profile = (await client.call("GET", f"/api/contacts/{scene.contact}"))["contact"]
        assert {ids[c["id"]] for c in profile["conversations"]} == conversations, who
        assert profile["counts"]["conversations"] == len(conversations), who
        assert profile["counts"]["messages"] == len(seen), who
        assert (profile["open_conversation"] or {}).get("id") == (scene.live if "live" in conversations else None)


async def test_contact_edits_for_every_role(hub: RunningHub, staff: dict[str, AgentClient], scene: Scene) -> None:
    may_edit = {"alice": True, "bob": False, "chen": False, "sara": True, "tom": False, "admin": True}
    for who, allowed in may_edit.items():
        client = staff[who]
        status = 200 if allowed else 403
        await client.call("PATCH", f"/api/contacts/{scene.contact}", {"display_name": f"Named by {who}"},
                          expect=status)
        await client.call("POST", f"/api/contacts/{scene.contact}/identities",
                          {"channel": "email", "address": f"{who}@example.org"}, expect=status)
        if allowed:
            profile = (await client.call("GET", f"/api/contacts/{scene.contact}"))["contact"]
            assert profile["may_edit"] is True and profile["display_name"] == f"Named by {who}", who
    seen_by_sara = (await staff["sara"].call("GET", f"/api/contacts/{scene.contact}"))["contact"]
    assert set(seen_by_sara["identities"]["email"]) == {"alice@example.org", "sara@example.org", "admin@example.org"}


async def test_merge_needs_a_live_conversation_of_one_and_service_of_the_other(
        hub: RunningHub, staff: dict[str, AgentClient], scene: Scene) -> None:
    other = (await hub.context.conversations.get_doc(scene.queued))["contact_id"]
    # Nobody but a supervisor or admin served the queued customer: no agent may merge it.
    for who in ("alice", "bob", "chen", "tom"):
        await staff[who].call("POST", f"/api/contacts/{scene.contact}/merge", {"other": other}, expect=403)
    # Alice takes the queued conversation: she serves both now, but both are open (the merge rule's 409).
    alice = staff["alice"]
    await alice.available()
    assert await alice.take_offer() == scene.queued
    await alice.call("POST", f"/api/contacts/{scene.contact}/merge", {"other": other}, expect=409)
    await alice.call("POST", f"/api/conversations/{scene.queued}/resolve")
    merged = await alice.call("POST", f"/api/contacts/{scene.contact}/merge", {"other": other})
    assert merged["merge"]["survivor"] == scene.contact
    # Bob served the survivor once but holds nothing live: still no merge, no edit.
    await staff["bob"].call("POST", f"/api/contacts/{scene.contact}/merge", {"other": other}, expect=403)


async def test_an_agent_who_served_and_transferred_sees_it_again_only_once_finished(
        hub: RunningHub, staff: dict[str, AgentClient]) -> None:
    bob, alice = staff["bob"], staff["alice"]
    conversation_id = await serve_once(bob, hub, "my bill is wrong", "bob's note")
    await bob.call("POST", f"/api/conversations/{conversation_id}/transfer", {"queue": "billing"})
    await bob.call("POST", "/api/me/status", {"status": "away"})
    contact = (await hub.context.conversations.get_doc(conversation_id))["contact_id"]
    await bob.call("GET", f"/api/conversations/{conversation_id}", expect=403)  # queued for billing: not his skill
    await alice.connect()
    await alice.available()
    assert await alice.take_offer() == conversation_id
    await bob.call("GET", f"/api/conversations/{conversation_id}", expect=403)  # Alice's now
    await bob.call("GET", f"/api/contacts/{contact}/timeline", expect=403)
    assert (await bob.call("GET", f"/api/contacts?q={quote(PHONE)}"))["contacts"] == []
    await alice.call("POST", f"/api/conversations/{conversation_id}/resolve")
    answer = await bob.call("GET", f"/api/conversations/{conversation_id}")  # served by him, finished
    assert {e["message"]["text"] for e in answer["timeline"] if e["kind"] == "message"} == {
        "my bill is wrong", "bob's note"}
    assert texts(await bob.call("GET", f"/api/contacts/{contact}/timeline")) == {"my bill is wrong", "bob's note"}
    found = await bob.call("GET", f"/api/contacts?q={quote(PHONE)}")
    assert [c["id"] for c in found["contacts"]] == [contact]
    await staff["chen"].call("GET", f"/api/conversations/{conversation_id}", expect=403)
