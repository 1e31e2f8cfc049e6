"""The contact API's roles and errors over real HTTP: 401, 403 (CSRF, scope, merge rights), 404, 400, 409."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from hub.bootstrap import RunningHub
from tests.clients import AgentClient
from tests.integration.test_contacts import PHONE, inbound, resolve


@pytest.fixture
async def clients(hub: RunningHub) -> AsyncIterator[dict[str, AgentClient]]:
    logged = {name: await AgentClient(hub.base_url).login(name) for name in ("sara", "alice", "bob")}
    yield logged
    for client in logged.values():
        await client.close()
    await asyncio.sleep(0.5)  # see tests/integration/test_contacts.py: let the kicked routing round end


async def contact_of(hub: RunningHub, conversation_id: str) -> str:
    return str((await hub.context.conversations.get_doc(conversation_id))["contact_id"])


async def test_sessions_csrf_and_unknown_contacts(hub: RunningHub, clients: dict[str, AgentClient]) -> None:
    async with aiohttp.ClientSession() as anonymous, anonymous.get(f"{hub.base_url}/api/contacts?q=ann") as resp:
        assert resp.status == 401
    sara = clients["sara"]
    await sara.call("GET", "/api/contacts/k_nope", expect=404)
    received = await inbound(hub, "sms", PHONE, "hello")
    contact_id = await contact_of(hub, received.conversation.id)
    async with sara.session.post(f"{hub.base_url}/api/contacts/{contact_id}/merge", json={"other": "x"}) as resp:
        assert resp.status == 403  # no CSRF header
    bad = await sara.call("POST", f"/api/contacts/{contact_id}/identities", {"channel": "sms", "address": "12"},
                          expect=400)
    assert bad["error"]["code"] == "invalid_input" and "12" not in bad["error"]["message"]
    await sara.call("POST", f"/api/contacts/{contact_id}/identities", {"channel": "sms"}, expect=400)
    await sara.call("GET", f"/api/contacts/{contact_id}/timeline?before=garbage", expect=400)
    await sara.call("POST", f"/api/contacts/{contact_id}/merge", {"other": contact_id}, expect=400)


async def test_agents_see_only_contacts_of_conversations_they_may_view(
        hub: RunningHub, clients: dict[str, AgentClient]) -> None:
    sara, bob = clients["sara"], clients["bob"]
    received = await inbound(hub, "email", "ann@example.org", "bill question")
    contact_id = await contact_of(hub, received.conversation.id)
    await sara.call("PATCH", f"/api/contacts/{contact_id}", {"display_name": "Ann Lee"})
    found = await sara.call("GET", "/api/contacts?q=ANN@example.org")
    assert [c["id"] for c in found["contacts"]] == [contact_id]
    assert (await sara.call("GET", "/api/contacts?q=lee"))["contacts"][0]["display_name"] == "Ann Lee"
    # Queued in "general" (no skills): every agent may view it, so may see its contact.
    assert [c["id"] for c in (await bob.call("GET", "/api/contacts?q=ann"))["contacts"]] == [contact_id]
    await resolve(hub, received.conversation.id)
    # Resolved and never Bob's: out of his scope.
    assert (await bob.call("GET", "/api/contacts?q=ann"))["contacts"] == []
    await bob.call("GET", f"/api/contacts/{contact_id}", expect=403)
    await bob.call("GET", f"/api/contacts/{contact_id}/timeline", expect=403)
    await bob.call("PATCH", f"/api/contacts/{contact_id}", {"display_name": "Someone"}, expect=403)
    profile = await sara.call("GET", f"/api/contacts/{contact_id}")
    assert profile["contact"]["counts"] == {"conversations": 1, "open": 0, "messages": 1, "by_channel": {"email": 1}}
    assert (await hub.context.conversations.get_doc(received.conversation.id))["contact_name"] == "Ann Lee"


async def test_identity_conflicts_and_merge_rights(hub: RunningHub, clients: dict[str, AgentClient]) -> None:
    sara, alice = clients["sara"], clients["alice"]
    sms = await inbound(hub, "sms", PHONE, "outage?")
    mail = await inbound(hub, "email", "ann@example.org", "outage?")
    sms_contact, mail_contact = await contact_of(hub, sms.conversation.id), await contact_of(hub, mail.conversation.id)
    taken = await sara.call("POST", f"/api/contacts/{mail_contact}/identities",
                            {"channel": "sms", "address": "0086 138 0013 8000"}, expect=409)
    assert taken["error"]["code"] == "identity_taken" and taken["error"]["other_contact_id"] == sms_contact
    both_open = await sara.call("POST", f"/api/contacts/{mail_contact}/merge", {"other": sms_contact}, expect=409)
    assert both_open["error"]["code"] == "merge_refused"

    # Alice serves one customer now and has served the other: she may merge their contacts; Bob
    # served neither and may not (hub.domain.visibility; every role: test_visibility.py).
    await alice.connect()
    await alice.available()
    served = {await alice.take_offer(): None for _ in range(2)}
    kept = sms.conversation.id
    await alice.call("POST", f"/api/conversations/{mail.conversation.id}/resolve")
    assert set(served) == {kept, mail.conversation.id}
    await clients["bob"].call("POST", f"/api/contacts/{mail_contact}/merge", {"other": sms_contact}, expect=403)
    mine, theirs = mail_contact, sms_contact
    merged = await alice.call("POST", f"/api/contacts/{mine}/merge", {"other": theirs})
    assert merged["merge"]["already"] is False and merged["merge"]["identities_moved"] == 1
    assert set(merged["contact"]["identities"]) == {"sms", "email"}
    again = await sara.call("POST", f"/api/contacts/{mine}/merge", {"other": theirs})
    assert again["merge"]["already"] is True
    old = await sara.call("GET", f"/api/contacts/{theirs}")
    assert old["contact"]["id"] == mine and old["contact"]["redirected_from"] == theirs
    audit = await sara.call("GET", f"/api/contacts/{mine}/audit")
    assert [e["type"] for e in audit["audit"]].count("contact.merged") == 1


async def test_customer_attributes_roles_bad_input_readable_identities_and_live_frames(
        hub: RunningHub, clients: dict[str, AgentClient]) -> None:
    """Issue 16.5: attributes edited by who may edit the contact, validated at the edge; the
    profile's readable identities and open count; a ``contact`` frame (ids only) on each change."""
    sara, bob = clients["sara"], clients["bob"]
    received = await inbound(hub, "email", "meter@example.org", "my meter")
    contact_id = await contact_of(hub, received.conversation.id)
    path = f"/api/contacts/{contact_id}/attributes"
    await bob.connect()
    markup = '<img src=x onerror="alert(1)"> 12 Elm St'
    saved = await sara.call("PATCH", path, {"account_number": " A-1002 ", "address": markup, "meter_id": "M 77"})
    assert saved["contact"]["attributes"] == {"account_number": "A-1002", "address": markup, "meter_id": "M 77"}
    frame = await bob.next("contact", contact_id=contact_id, change="attributes")
    assert set(frame) == {"type", "contact_id", "change", "merged_from"}  # ids only, no personal data
    await sara.call("PATCH", f"/api/contacts/{contact_id}", {"display_name": "Mia Meter"})
    await bob.next("contact", contact_id=contact_id, change="renamed")
    await sara.call("POST", f"/api/contacts/{contact_id}/identities", {"channel": "sms", "address": PHONE})
    await bob.next("contact", contact_id=contact_id, change="identity_linked")

    profile = (await sara.call("GET", f"/api/contacts/{contact_id}"))["contact"]
    assert profile["counts"]["open"] == 1 and profile["counts"]["conversations"] == 1
    assert profile["identity_labels"] == [
        {"channel": "email", "kind": "email", "label": "meter@example.org", "tag": None},
        {"channel": "sms", "kind": "phone", "label": "+86 138 0013 8000", "tag": None}]

    cleared = await sara.call("PATCH", path, {"meter_id": None, "address": "  "})
    assert cleared["contact"]["attributes"] == {"account_number": "A-1002"}

    # Bad input: a clear 400 that never echoes the value, and nothing stored.
    secret = "SECRET-" + "9" * 40
    for bad in ({"account_number": secret}, {"address": "x" * 301}, {"colour": "red"}, {},
                {"meter_id": 77}, {"meter_id": "M\u000777"}, {"meter_id": "M\u202e77"}, ["meter_id"]):
        error = await sara.call("PATCH", path, bad, expect=400)
        assert secret not in error["error"]["message"]
    async with sara.session.patch(f"{hub.base_url}{path}", data=b'{"address": "\\ud800 lone"}',
                                  headers={"X-CSRF-Token": sara.csrf, "Content-Type": "application/json"}) as resp:
        assert resp.status == 400 and (await resp.json())["error"]["code"] == "invalid_text"
    assert (await sara.call("GET", f"/api/contacts/{contact_id}"))["contact"]["attributes"] == {
        "account_number": "A-1002"}

    # Roles: Bob may see the queued conversation's contact but serves none of it; a trainer has no contacts.
    assert (await bob.call("GET", f"/api/contacts/{contact_id}"))["contact"]["may_edit"] is False
    await bob.call("PATCH", path, {"meter_id": "M 1"}, expect=403)
    tom = await AgentClient(hub.base_url).login("tom")
    try:
        await tom.call("PATCH", path, {"meter_id": "M 1"}, expect=403)
    finally:
        await tom.close()
    async with aiohttp.ClientSession() as anonymous, anonymous.patch(f"{hub.base_url}{path}", json={}) as resp:
        assert resp.status == 401
    audit = (await sara.call("GET", f"/api/contacts/{contact_id}/audit"))["audit"]
    changed = [e for e in audit if e["type"] == "contact.attributes_changed"]
    assert len(changed) == 2 and changed[0]["detail"] == {"keys": ["address", "meter_id"]}
    assert "A-1002" not in str(audit)
