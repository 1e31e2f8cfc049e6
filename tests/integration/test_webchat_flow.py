"""The spine end to end over the real protocols: widget -> queue -> offer -> agent -> reply -> widget."""

from __future__ import annotations

import aiohttp

from hub.bootstrap import RunningHub
from tests.clients import AgentClient, WidgetClient
from tests.conftest import eventually


async def test_customer_message_reaches_agent_and_reply_reaches_customer(
        hub: RunningHub, agent: AgentClient, http: aiohttp.ClientSession) -> None:
    widget = WidgetClient(hub.base_url, http)
    await widget.connect(name="Ann")
    sent = await widget.say("My bill doubled this month <b>why</b>?")
    assert sent["status"] == "sent" and sent["author"] == "customer"

    conversation_id = await agent.take_offer()
    assert conversation_id == sent["conversation_id"]
    view = await agent.call("GET", f"/api/conversations/{conversation_id}")
    texts = [e["message"]["text"] for e in view["timeline"] if e["kind"] == "message"]
    assert texts == ["My bill doubled this month <b>why</b>?"]
    states = [e["event"]["to_state"] for e in view["timeline"] if e["kind"] == "event"]
    assert states == ["new", "queued", "offered", "assigned"]

    await agent.reply(conversation_id, "Let me check your tariff.")
    frame = await widget.next("message")
    assert frame["message"]["text"] == "Let me check your tariff."
    assert frame["message"]["author"] == "agent" and frame["message"]["author_name"] == "Alice Wang"
    assert "private" not in frame["message"]


async def test_private_note_never_reaches_widget(
        hub: RunningHub, agent: AgentClient, http: aiohttp.ClientSession) -> None:
    widget = WidgetClient(hub.base_url, http)
    await widget.connect()
    await widget.say("hello")
    conversation_id = await agent.take_offer()
    await agent.reply(conversation_id, "customer sounds upset", private=True)
    await agent.reply(conversation_id, "Hello! How can I help?")
    frame = await widget.next("message")
    assert frame["message"]["text"] == "Hello! How can I help?"
    await widget.close()
    again = WidgetClient(hub.base_url, http)
    again.visitor = widget.visitor
    welcome = await again.connect()
    assert [m["text"] for m in welcome["history"]] == ["hello", "Hello! How can I help?"]


async def test_resent_message_is_stored_once(hub: RunningHub) -> None:
    async with aiohttp.ClientSession() as http:
        widget = WidgetClient(hub.base_url, http)
        await widget.connect()
        first = await widget.say("power is out on Elm street", client_id="client-000001")
        await widget.close()
        # Reconnect as the same visitor and resend the same client_id, as after a lost ack.
        again = WidgetClient(hub.base_url, http)
        again.visitor = widget.visitor
        await again.connect()
        second = await again.say("power is out on Elm street", client_id="client-000001")
        assert second["id"] == first["id"]
        stored = await hub.context.messages.timeline(first["conversation_id"], include_private=True)
        assert [m.text for m in stored] == ["power is out on Elm street"]


async def test_identity_survives_reconnect_and_history_replays(
        hub: RunningHub, agent: AgentClient, http: aiohttp.ClientSession) -> None:
    widget = WidgetClient(hub.base_url, http)
    await widget.connect()
    await widget.say("first")
    conversation_id = await agent.take_offer()
    await widget.close()
    # While the customer is away the agent answers; the reconnecting widget gets it.
    await agent.reply(conversation_id, "answer while you were away")
    again = WidgetClient(hub.base_url, http)
    again.visitor = widget.visitor
    welcome = await again.connect()
    assert welcome["visitor"]["id"] == widget.visitor["id"]
    assert welcome["conversation_id"] == conversation_id
    assert [m["text"] for m in welcome["history"]] == ["first", "answer while you were away"]


async def test_receipts_and_typing_flow_both_ways(
        hub: RunningHub, agent: AgentClient, http: aiohttp.ClientSession) -> None:
    widget = WidgetClient(hub.base_url, http)
    await widget.connect()
    sent = await widget.say("is there an outage?")
    conversation_id = await agent.take_offer()
    # The agent's console received the message: delivered; opening it: read.
    await agent.call("POST", f"/api/conversations/{conversation_id}/read")
    seen = [await widget.next("status")]
    while seen[-1]["status"] != "read":
        seen.append(await widget.next("status"))
    assert [f["status"] for f in seen] in (["delivered", "read"], ["read"])
    assert {f["message_id"] for f in seen} == {sent["id"]}

    await widget.ws.send_json({"type": "typing", "active": True})  # type: ignore[union-attr]
    typing = await agent.next("typing", conversation_id=conversation_id)
    assert typing["active"] is True

    await agent.call("POST", f"/api/conversations/{conversation_id}/typing", {"active": True})
    assert (await widget.next("typing"))["active"] is True

    reply = await agent.reply(conversation_id, "No outage reported in your area.")
    await widget.next("message")
    await widget.ws.send_json({"type": "read", "message_ids": [reply["id"]]})  # type: ignore[union-attr]
    status = await agent.next("status", message_id=reply["id"])
    assert status["status"] == "read"
    stored = await hub.context.messages.get(reply["id"])
    assert stored is not None and stored.status.value == "read"


async def test_agent_lifecycle_wrap_up_and_resolve_frees_capacity(
        hub: RunningHub, agent: AgentClient, http: aiohttp.ClientSession) -> None:
    widget = WidgetClient(hub.base_url, http)
    await widget.connect()
    await widget.say("thanks, all good")
    conversation_id = await agent.take_offer()
    await agent.call("POST", f"/api/conversations/{conversation_id}/wrap_up", {"code": "nonsense"},
                     expect=400)
    await agent.call("POST", f"/api/conversations/{conversation_id}/wrap_up",
                     {"code": "resolved_first_contact"})
    await agent.call("POST", f"/api/conversations/{conversation_id}/resolve")
    await agent.call("POST", f"/api/conversations/{conversation_id}/resolve", expect=409)

    async def load_is_zero() -> bool:
        overview = await hub.context.acd.overview()
        return overview["agents"][agent.agent["id"]]["load"].get("webchat") == 0

    await eventually(load_is_zero)
    events = await hub.context.conversations.events_of(conversation_id)
    assert [e["type"] for e in events] == ["created", "queued", "offered", "assigned", "wrapped_up",
                                           "resolved"]
    # Writing again after resolution starts a new conversation.
    again = await widget.say("one more question")
    assert again["conversation_id"] != conversation_id
