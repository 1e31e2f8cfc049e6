"""The outbox on real MongoDB and Redis, with a scripted channel behind the port.

The real channels (Kannel, SMTP, the Bot API stand-in) prove their own adapters in
tests/contract; here the sender is a small script of outcomes so each rule of the outbox can
be shown on its own: queued then sent, retry after a transient error (and after the provider's
``retry_after``), fail for good, a send that never finished (its process died) is taken over
after the lease, delivery reports only move a message forward, replies follow the customer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
from redis.asyncio import Redis

from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.config import ConsumersSettings, OutboxSettings, Settings
from hub.domain.ids import DeliveryStatus, ExternalId
from hub.domain.model import InboundMessage
from hub.domain.outbound import Outbound, SendResult
from hub.errors import ChannelSendError
from hub.storage.database import Db
from tests.clients import AgentClient, WidgetClient
from tests.conftest import eventually, make_settings


class ScriptedSender:
    """A channel whose next outcomes the test decides: a result, an error, or hanging forever."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.sent: list[Outbound] = []
        self.script: list[Exception | str] = []  # "hang" blocks until cancelled, "gate" until opened
        self.gate = asyncio.Event()
        self.started: list[str] = []  # texts whose send began

    async def send(self, outbound: Outbound) -> SendResult:
        step = self.script.pop(0) if self.script else "ok"
        self.started.append(outbound.text)
        if step == "hang":
            await asyncio.Event().wait()
        if step == "gate":
            await self.gate.wait()
        if isinstance(step, Exception):
            raise step
        self.sent.append(outbound)
        return SendResult(provider_ids=(f"p-{outbound.message_id}",))


def settings_for(db_name: str, **outbox: float) -> Settings:
    return make_settings(db_name).model_copy(update={"outbox": OutboxSettings(**{"poll_s": 0.1, **outbox})})


@contextlib.asynccontextmanager
async def hub_with(settings: Settings, sender: ScriptedSender, mongo_url: str,
                   redis_url: str) -> AsyncIterator[RunningHub]:
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url,
                           channel_senders={sender.channel: sender}) as running:
        await load_demo(running.context.directory)
        yield running


def sms(text: str, external_id: str, sender: str = "+8613800138000") -> InboundMessage:
    return InboundMessage(channel="sms", external_id=ExternalId(external_id), sender=sender, text=text,
                          received_at=datetime.now(UTC), meta={"to": "95598"})


async def agent_holding(hub: RunningHub, text: str, external_id: str) -> tuple[AgentClient, str]:
    agent = await AgentClient.online(hub.base_url, "alice")
    received = await hub.context.inbox.accept_inbound(sms(text, external_id))
    conversation_id = await agent.take_offer()
    assert conversation_id == received.conversation.id
    return agent, conversation_id


async def test_reply_is_queued_then_sent_to_the_customers_address(
        mongo_url: str, redis_url: str, redis: Redis, db_name: str, db: Db) -> None:
    sender = ScriptedSender("sms")
    async with hub_with(settings_for(db_name), sender, mongo_url, redis_url) as hub:
        agent, conversation_id = await agent_holding(hub, "我家停电了", "kannel-1")
        reply = await agent.reply(conversation_id, "我们马上派人处理。")
        assert reply["status"] == "queued" and reply["channel"] == "sms"
        status = await agent.next("status", message_id=reply["id"])
        assert status["status"] == "sent"
        [outbound] = sender.sent
        assert outbound.address == "+8613800138000" and outbound.text == "我们马上派人处理。"
        assert outbound.thread["reply_to"] == "kannel-1" and outbound.thread["to"] == "95598"
        doc = await db["messages"].find_one({"_id": reply["id"]})
        assert doc is not None and doc["status"] == "sent" and "outbox" not in doc
        assert doc["provider_ids"] == [f"p-{reply['id']}"], "the thread's next reply refers to it"
        entry = await db["outbox"].find_one({"_id": reply["id"]})
        assert entry is not None and entry["outbox"]["state"] == "done"
        assert entry["provider_ids"] == [f"p-{reply['id']}"]
        await agent.close()


async def test_transient_errors_are_retried_and_the_providers_delay_is_respected(
        mongo_url: str, redis_url: str, redis: Redis, db_name: str, db: Db) -> None:
    sender = ScriptedSender("sms")
    sender.script = [ChannelSendError("gateway down", retryable=True),
                     ChannelSendError("slow down", retryable=True, retry_after_s=3)]
    async with hub_with(settings_for(db_name), sender, mongo_url, redis_url) as hub:
        agent, conversation_id = await agent_holding(hub, "bill question", "kannel-2")
        started = asyncio.get_running_loop().time()
        reply = await agent.reply(conversation_id, "Here is your bill.")
        status = await agent.next("status", timeout=20, message_id=reply["id"])
        elapsed = asyncio.get_running_loop().time() - started
        assert status["status"] == "sent" and len(sender.sent) == 1
        assert elapsed >= 2 + 3, "first retry after 2 s, the second after the provider's 3 s"
        doc = await db["outbox"].find_one({"_id": reply["id"]})
        assert doc is not None and doc["outbox"]["attempts"] == 3
        await agent.close()


async def test_permanent_error_fails_the_message_and_the_agent_sees_it(
        mongo_url: str, redis_url: str, redis: Redis, db_name: str, db: Db) -> None:
    sender = ScriptedSender("sms")
    sender.script = [ChannelSendError("number does not exist", retryable=False)]
    async with hub_with(settings_for(db_name), sender, mongo_url, redis_url) as hub:
        agent, conversation_id = await agent_holding(hub, "hello", "kannel-3")
        reply = await agent.reply(conversation_id, "Hello!")
        status = await agent.next("status", message_id=reply["id"])
        assert status["status"] == "failed" and sender.sent == []
        view = await agent.call("GET", f"/api/conversations/{conversation_id}")
        [shown] = [e["message"] for e in view["timeline"]
                   if e["kind"] == "message" and e["message"]["id"] == reply["id"]]
        assert shown["status"] == "failed"
        await agent.close()


async def test_a_send_whose_process_died_is_taken_over_after_the_lease(
        mongo_url: str, redis_url: str, redis: Redis, db_name: str, db: Db) -> None:
    hanging = ScriptedSender("sms")
    hanging.script = ["hang"]
    async with hub_with(settings_for(db_name, lease_s=2), hanging, mongo_url, redis_url) as first:
        agent, conversation_id = await agent_holding(first, "outage on my street", "kannel-4")
        reply = await agent.reply(conversation_id, "A crew is on its way.")
        await eventually(lambda: _outbox_state(db, reply["id"], "sending"))
        await agent.close()
    # The first process is gone mid-send; a second one finds the entry once its lease ran out.
    healthy = ScriptedSender("sms")
    async with hub_with(settings_for(db_name, lease_s=2), healthy, mongo_url, redis_url):
        await eventually(lambda: len(healthy.sent) == 1, timeout=15)
        assert healthy.sent[0].message_id == reply["id"] and healthy.sent[0].attempt == 2
        await eventually(lambda: _outbox_state(db, reply["id"], "done"))


async def test_a_conversations_messages_leave_in_order_and_a_slow_one_holds_up_no_other(
        mongo_url: str, redis_url: str, redis: Redis, db_name: str, db: Db) -> None:
    sender = ScriptedSender("sms")
    sender.script = ["gate"]  # the first send is slow: it waits until the test opens the gate
    async with hub_with(settings_for(db_name), sender, mongo_url, redis_url) as hub:
        agent, first = await agent_holding(hub, "meter question", "kannel-order-1")
        await hub.context.inbox.accept_inbound(sms("billing question", "kannel-order-2", sender="+8613900139000"))
        second = await agent.take_offer()
        for text in ("one", "two", "three"):
            await agent.reply(first, text)
        await eventually(lambda: sender.started == ["one"])
        await agent.reply(second, "other customer")  # another conversation is not held up
        await eventually(lambda: [o.text for o in sender.sent] == ["other customer"])
        assert sender.started == ["one", "other customer"]  # "two" waits for "one"
        sender.gate.set()
        await eventually(lambda: [o.text for o in sender.sent] == ["other customer", "one", "two", "three"])
        await agent.close()


async def test_delivery_reports_only_move_forward_and_unknown_ids_are_refused(
        mongo_url: str, redis_url: str, redis: Redis, db_name: str, db: Db) -> None:
    sender = ScriptedSender("sms")
    # The outbox's and the consumers' polls far apart: no read of theirs falls into the counted window.
    quiet = settings_for(db_name, poll_s=3600).model_copy(update={"consumers": ConsumersSettings(poll_s=3600)})
    async with hub_with(quiet, sender, mongo_url, redis_url) as hub:
        agent, conversation_id = await agent_holding(hub, "meter reading", "kannel-5")
        reply = await agent.reply(conversation_id, "Thanks, noted.")
        await agent.next("status", message_id=reply["id"], status="sent")
        outbox = hub.context.outbox
        for _ in range(5):  # an ACD tick (alice is available) may read in the window: then count again
            reads = await _reads(db)
            assert await outbox.delivery_report("sms", f"p-{reply['id']}", DeliveryStatus.DELIVERED)
            if await _reads(db) == reads:
                break
        else:
            raise AssertionError("this process sent it: its delivery report should read nothing")
        status = await agent.next("status", message_id=reply["id"])
        assert status["status"] == "delivered"
        assert await outbox.delivery_report("sms", f"p-{reply['id']}", DeliveryStatus.SENT)  # late, ignored
        assert not await outbox.delivery_report("sms", "p-forged", DeliveryStatus.DELIVERED)
        doc = await db["messages"].find_one({"_id": reply["id"]})
        assert doc is not None and doc["status"] == "delivered"
        await agent.close()
    # A process that did not send it (here: the hub after a restart) finds the message by its id.
    async with hub_with(settings_for(db_name), sender, mongo_url, redis_url) as again:
        assert await again.context.outbox.delivery_report("sms", f"p-{reply['id']}", DeliveryStatus.READ)
        await eventually(lambda: _status_is(db, reply["id"], "read"))


async def test_a_report_naming_a_send_still_in_flight_is_taken_without_a_read(
        mongo_url: str, redis_url: str, redis: Redis, db_name: str, db: Db) -> None:
    """Kannel reports under our message id (its ``ref``) and may do so before its sendsms answer
    reached us, or before the send's state is stored: the report is taken (a 404 would make
    Kannel retry it later, after a read), reads nothing, and the send's answer never undoes it."""
    sender = ScriptedSender("sms")
    quiet = settings_for(db_name, poll_s=3600).model_copy(update={"consumers": ConsumersSettings(poll_s=3600)})
    async with hub_with(quiet, sender, mongo_url, redis_url) as hub:
        agent, conversation_id = await agent_holding(hub, "meter reading", "kannel-8")
        sender.script = ["gate"]
        reply = await agent.reply(conversation_id, "Thanks, noted.")
        await eventually(lambda: sender.started == ["Thanks, noted."])
        outbox = hub.context.outbox
        for _ in range(5):  # an ACD tick (alice is available) may read in the window: then count again
            reads = await _reads(db)
            assert await outbox.delivery_report("sms", reply["id"], DeliveryStatus.DELIVERED)
            if await _reads(db) == reads:
                break
        else:
            raise AssertionError("a report on a send of this process in flight should read nothing")
        sender.gate.set()
        await eventually(lambda: _outbox_state(db, reply["id"], "done"))
        assert await _status_is(db, reply["id"], "delivered"), "the send's 'sent' came later: forward only"
        await agent.close()


async def test_sending_a_reply_reads_nothing_its_thread_travels_in_the_outbox_entry(
        mongo_url: str, redis_url: str, redis: Redis, db_name: str, db: Db) -> None:
    """Routing a reply reads the conversation's thread once (where the customer last wrote, and what
    the channel needs to answer in kind) and then knows it (ADR 0061: the first reply's provider id
    joins it when its send is done); the send takes it from the outbox entry instead of a read."""
    sender = ScriptedSender("sms")
    quiet = settings_for(db_name, poll_s=3600).model_copy(update={"consumers": ConsumersSettings(poll_s=3600)})
    async with hub_with(quiet, sender, mongo_url, redis_url) as hub:
        agent, conversation_id = await agent_holding(hub, "meter reading", "kannel-9")
        first = await agent.reply(conversation_id, "first")  # the agent's view of the conversation is cached
        await agent.next("status", message_id=first["id"], status="sent")
        for n in range(5):  # an ACD tick (alice is available) may read in the window: then count again
            reads = await _reads(db)
            reply = await agent.reply(conversation_id, f"reply {n}")
            await agent.next("status", message_id=reply["id"], status="sent")
            if await _reads(db) - reads == 0:
                break
        else:
            raise AssertionError("a reply should read no thread the process knows, and its send nothing")
        doc = await db["outbox"].find_one({"_id": reply["id"]})
        assert doc is not None and doc["outbox"]["thread"]["reply_to"] == "kannel-9"
        assert doc["outbox"]["thread"]["references"].startswith(f"kannel-9 p-{first['id']}")
        assert sender.sent[-1].thread["to"] == "95598"
        await agent.close()


async def _reads(db: Db) -> int:
    counters = (await db.client.admin.command("serverStatus"))["opcounters"]
    return int(counters["query"]) + int(counters["getmore"])


async def _status_is(db: Db, message_id: str, status: str) -> bool:
    doc = await db["messages"].find_one({"_id": message_id}, {"status": 1})
    return doc is not None and doc["status"] == status


async def test_private_notes_never_enter_the_outbox(
        mongo_url: str, redis_url: str, redis: Redis, db_name: str, db: Db) -> None:
    sender = ScriptedSender("sms")
    async with hub_with(settings_for(db_name), sender, mongo_url, redis_url) as hub:
        agent, conversation_id = await agent_holding(hub, "hello", "kannel-6")
        note = await agent.reply(conversation_id, "customer has a payment plan", private=True)
        reply = await agent.reply(conversation_id, "Hello, how can I help?")
        await agent.next("status", message_id=reply["id"], status="sent")
        assert [o.text for o in sender.sent] == ["Hello, how can I help?"]
        doc = await db["messages"].find_one({"_id": note["id"]})
        assert doc is not None and "outbox" not in doc
        assert await db["outbox"].find_one({"_id": note["id"]}) is None
        await agent.close()


async def test_a_reply_on_a_channel_that_is_not_configured_fails_visibly(
        mongo_url: str, redis_url: str, redis: Redis, db_name: str, db: Db) -> None:
    sender = ScriptedSender("telegram")  # SMS is not configured in this hub
    async with hub_with(settings_for(db_name), sender, mongo_url, redis_url) as hub:
        agent, conversation_id = await agent_holding(hub, "hello", "kannel-7")
        reply = await agent.reply(conversation_id, "Hello!")
        assert reply["status"] == "queued"
        status = await agent.next("status", message_id=reply["id"])
        assert status["status"] == "failed", "never 'sent' when nothing could send it"
        doc = await db["outbox"].find_one({"_id": reply["id"]})
        assert doc is not None and doc["outbox"]["error"] == "no adapter for channel sms"
        await agent.close()


async def test_replies_follow_the_customer_from_web_chat_to_sms_and_back(
        mongo_url: str, redis_url: str, redis: Redis, db_name: str, db: Db) -> None:
    sender = ScriptedSender("sms")
    async with hub_with(settings_for(db_name), sender, mongo_url, redis_url) as hub, \
            aiohttp.ClientSession() as http:
        agent = await AgentClient.online(hub.base_url, "alice")
        widget = WidgetClient(hub.base_url, http)
        await widget.connect(name="Ann")
        sent = await widget.say("my meter shows 0")
        conversation_id = await agent.take_offer()
        contact_id = (await db["conversations"].find_one({"_id": conversation_id}))["contact_id"]  # type: ignore[index]
        await agent.call("POST", f"/api/contacts/{contact_id}/identities",
                         {"channel": "sms", "address": "+8613800138000"})

        by_sms = await hub.context.inbox.accept_inbound(sms("I am outside now, text me", "kannel-x"))
        assert by_sms.conversation.id == sent["conversation_id"], "the linked number joins the open conversation"
        reply = await agent.reply(conversation_id, "Sure, by SMS then.")
        assert reply["channel"] == "sms" and reply["status"] == "queued"
        await eventually(lambda: [o.text for o in sender.sent] == ["Sure, by SMS then."])
        assert sender.sent[0].address == "+8613800138000"

        await widget.say("back at my desk")
        reply = await agent.reply(conversation_id, "Welcome back.")
        assert reply["channel"] == "webchat" and reply["status"] == "sent"
        frame = await widget.next("message")
        assert frame["message"]["text"] == "Welcome back."
        assert len(sender.sent) == 1
        await widget.close()
        await agent.close()


async def _outbox_state(db: Db, message_id: str, state: str) -> bool:
    doc: dict[str, Any] | None = await db["outbox"].find_one({"_id": message_id})
    return doc is not None and doc.get("outbox", {}).get("state") == state
