"""One contact across channels, against real SecantusDB: link, merge (audit, races), timeline, returning customers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest

from console.contacts_api import CONTACTS
from hub.bootstrap import RunningHub
from hub.contacts import ContactService
from hub.domain.contacts import MergeRefused
from hub.domain.ids import ChannelName, ExternalId
from hub.domain.model import Agent, InboundMessage
from hub.domain.received import Received
from hub.errors import ConcurrentUpdate
from tests.clients import AgentClient, WidgetClient

PHONE = "+8613800138000"


async def inbound(hub: RunningHub, channel: ChannelName, sender: str, text: str) -> Received:
    """A customer message on any channel, as its adapter would hand it over (no provider needed)."""
    return await hub.context.inbox.accept_inbound(InboundMessage(
        channel=channel, external_id=ExternalId(f"test:{uuid.uuid4().hex}"), sender=sender, text=text,
        received_at=datetime.now(UTC)))


async def staff(hub: RunningHub, username: str) -> Agent:
    agent = await hub.context.directory.agent_by_username(username)
    assert agent is not None
    return agent


@pytest.fixture
async def contacts(hub: RunningHub) -> AsyncIterator[ContactService]:
    yield hub.app[CONTACTS]
    # Stopping the hub within milliseconds of an inbound message leaves a Redis socket unclosed
    # (the routing round it kicked is cancelled mid-command; reported, not ours to fix here):
    # let that round finish first. Not a wait for a state this test asserts.
    await asyncio.sleep(0.5)


@pytest.fixture
async def sara(hub: RunningHub) -> AsyncIterator[AgentClient]:
    client = await AgentClient(hub.base_url).login("sara")
    yield client
    await client.close()


async def resolve(hub: RunningHub, conversation_id: str) -> None:
    await hub.context.desk.resolve(await staff(hub, "sara"), conversation_id)


async def test_web_visitor_and_linked_sms_number_are_one_contact(hub: RunningHub, sara: AgentClient) -> None:
    async with aiohttp.ClientSession() as http:
        widget = WidgetClient(hub.base_url, http)
        await widget.connect(name="Ann Lee")
        said = await widget.say("my meter shows nothing")
        conversation = await hub.context.conversations.get_doc(said["conversation_id"])
        contact_id = conversation["contact_id"]

        linked = await sara.call("POST", f"/api/contacts/{contact_id}/identities",
                                 {"channel": "sms", "address": "+86 138-0013-8000"})
        assert linked["contact"]["identities"]["sms"] == [PHONE]
        assert linked["contact"]["identities"]["webchat"] == [widget.visitor["id"]]  # type: ignore[index]
        # The panel reads a web visitor as "Web visitor" with a short tag, never the visitor id.
        visitor = next(x for x in linked["contact"]["identity_labels"] if x["channel"] == "webchat")
        assert visitor["label"] == "Web visitor" and visitor["tag"].startswith("#")
        assert widget.visitor["id"] not in str(linked["contact"]["identity_labels"])  # type: ignore[index]

        # The SMSC hands the number over without its "+": still the same customer, same conversation.
        received = await inbound(hub, "sms", PHONE.lstrip("+"), "I also sent this by SMS")
        assert received.conversation.id == said["conversation_id"]
        timeline = await sara.call("GET", f"/api/contacts/{contact_id}/timeline")
        assert [(m["channel"], m["text"]) for m in timeline["messages"]] == [
            ("webchat", "my meter shows nothing"), ("sms", "I also sent this by SMS")]
        await widget.close()


async def test_merge_moves_identities_repoints_conversations_and_audits(
        hub: RunningHub, contacts: ContactService) -> None:
    sara = await staff(hub, "sara")
    sms = await inbound(hub, "sms", PHONE, "power cut on Elm street")
    mail = await inbound(hub, "email", "Ann@Example.org", "Re: power cut")
    sms_contact = (await hub.context.conversations.get_doc(sms.conversation.id))["contact_id"]
    mail_contact = (await hub.context.conversations.get_doc(mail.conversation.id))["contact_id"]
    assert sms_contact != mail_contact

    # Both have an open conversation: the rule is "resolve one first".
    with pytest.raises(MergeRefused) as refused:
        await contacts.merge(sara, mail_contact, sms_contact)
    assert refused.value.status == 409
    await resolve(hub, mail.conversation.id)

    result = await contacts.merge(sara, mail_contact, sms_contact)
    assert not result.already and result.identities == [f"sms:{PHONE}"] and result.conversations == 1
    profile = await contacts.profile(sara, mail_contact)
    assert profile.identities == {"email": ["ann@example.org"], "sms": [PHONE]}
    assert profile.open_conversation is not None and profile.open_conversation["_id"] == sms.conversation.id
    assert {c["_id"] for c in profile.conversations} == {sms.conversation.id, mail.conversation.id}
    moved = await hub.context.conversations.get_doc(sms.conversation.id)
    assert moved["contact_id"] == mail_contact and moved["contact_name"] == profile.display_name

    # The old reference resolves; the next SMS and the next e-mail land in the open conversation.
    old = await contacts.profile(sara, sms_contact)
    assert old.id == mail_contact and old.requested_id == sms_contact
    assert (await inbound(hub, "sms", PHONE, "any news?")).conversation.id == sms.conversation.id
    assert (await inbound(hub, "email", "ann@example.org", "hello?")).conversation.id == sms.conversation.id

    again = await contacts.merge(sara, mail_contact, sms_contact)
    assert again.already
    entries = await contacts.audit(sara, mail_contact)
    merges = [e for e in entries if e["type"] == "contact.merged"]
    assert len(merges) == 1
    assert merges[0]["actor"] == sara.id and merges[0]["at"] is not None
    assert merges[0]["detail"]["survivor"] == mail_contact and merges[0]["detail"]["merged"] == sms_contact
    assert merges[0]["detail"]["channels"] == ["sms"]


async def test_racing_merges_never_form_a_cycle_and_audit_once(hub: RunningHub, contacts: ContactService) -> None:
    sara = await staff(hub, "sara")
    for round_ in range(4):
        pair = []
        for n in range(2):
            received = await inbound(hub, "telegram", f"{round_}{n}0071", "hi")
            await resolve(hub, received.conversation.id)
            pair.append((await hub.context.conversations.get_doc(received.conversation.id))["contact_id"])
        a, b = pair
        outcomes = await asyncio.gather(contacts.merge(sara, a, b), contacts.merge(sara, b, a),
                                        contacts.merge(sara, a, b), return_exceptions=True)
        for outcome in outcomes:
            assert not isinstance(outcome, BaseException) or isinstance(outcome, (ConcurrentUpdate, MergeRefused))
        raw = [await hub.app[CONTACTS]._contacts.get_raw(cid) for cid in pair]
        tombstones = [d for d in raw if d and d.get("merged_into")]
        assert len(tombstones) <= 1, "a merge cycle"
        wins = [o for o in outcomes if not isinstance(o, BaseException) and not o.already]
        assert len(wins) == len(tombstones)
        if tombstones:
            survivor = tombstones[0]["merged_into"]
            merged = [e for e in await contacts.audit(sara, survivor) if e["type"] == "contact.merged"]
            assert len(merged) == 1


async def test_timeline_across_channels_is_paginated_in_order(hub: RunningHub, contacts: ContactService) -> None:
    sara = await staff(hub, "sara")
    texts = []
    first = await inbound(hub, "sms", PHONE, "sms 0")
    texts.append(("sms", "sms 0"))
    for i in range(1, 4):
        await inbound(hub, "sms", PHONE, f"sms {i}")
        texts.append(("sms", f"sms {i}"))
    contact_id = (await hub.context.conversations.get_doc(first.conversation.id))["contact_id"]
    await resolve(hub, first.conversation.id)
    await contacts.link(sara, contact_id, "email", "ann@example.org")
    for i in range(3):
        received = await inbound(hub, "email", "ann@example.org", f"mail {i}")
        texts.append(("email", f"mail {i}"))
    assert received.conversation.id != first.conversation.id  # a new conversation on another channel

    seen: list[tuple[str, str]] = []
    before = None
    pages = 0
    while True:
        page = await contacts.timeline(sara, contact_id, before=before, limit=3)
        seen = [(m.channel, m.text) for m in page.messages] + seen
        pages += 1
        if page.older is None:
            break
        before = page.older
    assert seen == texts and pages == 3
    assert {c["channel"] for c in page.conversations} == {"sms", "email"}
