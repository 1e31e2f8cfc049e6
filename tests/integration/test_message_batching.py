"""The message path's batched writes (ADR 0032), against the real SecantusDB: messages of many
conversations in one insert, inbox lines and delivered receipts coalesced per conversation into
one bulk write of their inbox lines (ADR 0067), one refused line failing only its own waiters, nothing acknowledged that
was not stored, the agent's reply answered from what the process knows (no read per reply), and
the outbox's send states written in batches."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import aiohttp

from hub.bootstrap import RunningHub, running_hub
from hub.config import Settings
from hub.domain.events import EventType
from hub.domain.ids import Author, ConversationId, DeliveryStatus, ExternalId, MessageId
from hub.domain.model import Message
from hub.domain.states import ConversationState
from hub.storage.database import Db
from hub.storage.messages import MongoMessageStore
from hub.storage.outbox_states import OutboxStates
from tests.clients import AgentClient, WidgetClient
from tests.conftest import eventually

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def _message(conversation: str, n: int, author: Author = Author.CUSTOMER) -> Message:
    return Message(id=MessageId(f"m_{uuid.uuid4().hex}"), conversation_id=ConversationId(conversation),
                   channel="webchat", author=author, author_id="k_1" if author is Author.CUSTOMER else "a_1",
                   author_name="Someone", text=f"{conversation} says {n}", sent_at=T0 + timedelta(seconds=n),
                   status=DeliveryStatus.SENT,
                   external_id=ExternalId(f"v:{uuid.uuid4().hex}") if author is Author.CUSTOMER else None)


async def _conversations(db: Db, *ids: str) -> None:
    await db["conversations"].insert_many([{"_id": cid, "unread": 0, "preview": ""} for cid in ids])


async def test_customers_and_replies_share_one_insert_and_inbox_lines_coalesce(db: Db) -> None:
    await _conversations(db, "c_a", "c_b", "c_c")
    # A customer message and a reply in each of three conversations, twice, all within one gather window.
    messages = [_message(cid, n, author) for n in range(2) for cid in ("c_a", "c_b", "c_c")
                for author in (Author.CUSTOMER, Author.AGENT)]
    async with MongoMessageStore(db, gather_s=0.2, summary_flush_s=0.2) as store:
        stored = await asyncio.gather(*(store.add(m) for m in messages))
        assert [s.message.id for s in stored] == [m.id for m in messages]
        assert store.batches == 1  # twelve messages of three conversations: one insert command
        # Acknowledged means stored: every message is there when its add returns.
        assert await db["messages"].count_documents({}) == len(messages)
        await eventually(lambda: store.summaries.flushes >= 1)
        assert store.summaries.flushes == 1  # three conversations' lines: one bulk write
    # The same result as one update per message: the latest text, one unread per customer message.
    for cid in ("c_a", "c_b", "c_c"):
        doc = await db["inbox_lines"].find_one({"_id": cid})
        assert doc is not None
        assert (doc["preview"], doc["unread"]) == (f"{cid} says 1", 2)
        assert doc["last_message_at"] == T0 + timedelta(seconds=1)


async def test_coalesced_delivered_receipts_equal_per_message_receipts(db: Db) -> None:
    """The watermark marks exactly the messages a per-message receipt would have marked."""
    await _conversations(db, "c_w", "c_x")
    in_w = [_message("c_w", n) for n in range(5)]
    in_x = [_message("c_x", n) for n in range(3)]
    reply = _message("c_w", 2, Author.AGENT)
    async with MongoMessageStore(db, summary_flush_s=0.05) as store:
        for message in [*in_w, *in_x, reply]:
            await store.add(message)
        delivered = {in_w[0].id, in_w[1].id, in_w[2].id, in_x[0].id}
        # Receipts of the same conversation arriving together are one watermark, each awaited until stored.
        await asyncio.gather(store.delivered({"c_w": in_w[1].sent_at}), store.delivered({"c_w": in_w[2].sent_at}),
                             store.delivered({"c_w": in_w[0].sent_at, "c_x": in_x[0].sent_at}))
        timeline = [*await store.timeline("c_w", include_private=True),
                    *await store.timeline("c_x", include_private=True)]
    expected = {m.id: (DeliveryStatus.DELIVERED if m.id in delivered else DeliveryStatus.SENT)
                for m in [*in_w, *in_x, reply]}
    assert {m.id: m.status for m in timeline} == expected  # the staff reply is untouched
    # No message document was rewritten for a receipt: one field on each conversation's inbox line.
    assert await db["messages"].count_documents({"status": "delivered"}) == 0
    doc = await db["inbox_lines"].find_one({"_id": "c_w"})
    assert doc is not None and doc["delivered_until"] == in_w[2].sent_at


async def test_one_refused_conversation_fails_only_its_own_receipt(db: Db) -> None:
    await _conversations(db, "c_ok1", "c_ok2")
    await _conversations(db, "c_bad")
    await db["inbox_lines"].insert_one({"_id": "c_bad", "unread": "not a number"})  # ``$inc`` refuses it
    async with MongoMessageStore(db, summary_flush_s=0.2) as store:
        for cid in ("c_ok1", "c_bad", "c_ok2"):
            await store.add(_message(cid, 1))
        stored = await store.delivered({cid: T0 + timedelta(seconds=1) for cid in ("c_ok1", "c_bad", "c_ok2")})
        assert store.summaries.flushes == 1  # all three in one bulk write
    assert stored == {"c_ok1", "c_ok2"}  # the refused line fails only its own receipt
    for cid in ("c_ok1", "c_ok2"):
        doc = await db["inbox_lines"].find_one({"_id": cid})
        assert doc is not None and (doc["unread"], doc["delivered_until"]) == (1, T0 + timedelta(seconds=1))


async def test_a_stop_before_the_flush_acknowledges_nothing_unstored(db: Db) -> None:
    """Messages waiting in the gather window when the writer stops are never acknowledged (the
    widget keeps them in its outbox and resends); every acknowledged one is stored, and the inbox
    lines gathered so far are written on the way out."""
    await _conversations(db, "c_s")
    store = MongoMessageStore(db, gather_s=0.0, summary_flush_s=3600)
    await store.__aenter__()
    acknowledged = [await store.add(_message("c_s", n)) for n in range(3)]
    store.writer._gathering._gather_s = 3600  # the next batch waits: the stop comes before its write
    waiting = [asyncio.create_task(store.add(_message("c_s", n))) for n in range(3, 6)]
    await eventually(lambda: store.writer._gathering.waiting == 3)
    await store.__aexit__(None, None, None)
    outcomes = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(o, RuntimeError) for o in outcomes)
    stored_ids = {doc["_id"] async for doc in db["messages"].find({}, {"_id": 1})}
    assert stored_ids == {s.message.id for s in acknowledged}
    doc = await db["inbox_lines"].find_one({"_id": "c_s"})
    assert doc is not None and doc["unread"] == 3  # the summary writer flushed on its way out


async def test_a_read_clears_unread_after_pending_increments(db: Db) -> None:
    await _conversations(db, "c_r")
    async with MongoMessageStore(db, summary_flush_s=0.3) as store:
        for n in range(3):
            await store.add(_message("c_r", n))
        await store.clear_unread("c_r")  # the agent read them before their increments were written
        await store.add(_message("c_r", 9))
        await eventually(lambda: not store.summaries._pending)
    doc = await db["inbox_lines"].find_one({"_id": "c_r"})
    assert doc is not None and doc["unread"] == 1


async def test_replies_read_no_conversation_and_a_transition_elsewhere_is_seen(
        hub: RunningHub, http: aiohttp.ClientSession, settings: Settings, mongo_url: str, redis_url: str) -> None:
    """The reply path answers from the process's view of the conversation; a transition stored by
    another process reaches it as a fact on the bus and invalidates it: the former holder is refused."""
    current = hub.transitions._core.current  # the message path's view (hub.conversations.current)
    alice = await AgentClient.online(hub.base_url, "alice")
    try:
        widget = WidgetClient(hub.base_url, http)
        await widget.connect()
        await widget.say("my meter is blank")
        conversation_id = await alice.take_offer()  # the accept is a transition: remembered at once
        reads = current.reads
        for n in range(5):
            await alice.reply(conversation_id, f"answer {n}")
        assert current.reads == reads, "no conversation read per reply"
        answers = [(await widget.next("message"))["message"]["text"] for _ in range(5)]
        assert answers == [f"answer {n}" for n in range(5)]

        async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as other:  # a second process
            held = await other.context.conversations.get(conversation_id)
            await other.transitions.transition(
                held, ConversationState.QUEUED, EventType.TRANSFERRED, actor="a_supervisor",
                changes={"queue": "billing", "agent_id": None, "queued_at": held.updated_at},
                detail={"from_queue": "general", "to_queue": "billing"})

            async def refused() -> bool:
                async with alice.session.post(f"{hub.base_url}/api/conversations/{conversation_id}/messages",
                                              json={"text": "still mine?", "private": False},
                                              headers={"X-CSRF-Token": alice.csrf}) as resp:
                    return resp.status == 403

            await eventually(refused)
        assert current.reads == reads + 1  # read again once, after the fact
    finally:
        await alice.close()


async def test_outbox_states_of_many_sends_are_one_write_each_and_a_refused_one_fails_alone(db: Db) -> None:
    """What the channel answered for many sends, and a delivery report that overtook its send's
    answer, in one bulk write per collection (the entries, the messages); statuses only move
    forward; one refused document fails its caller only."""
    await db["outbox"].insert_many([{"_id": f"m_{n}", "status": "queued", "outbox": {"state": "sending"}}
                                    for n in range(5)]
                                   + [{"_id": "m_bad", "status": "queued", "outbox": "not a document"}])
    await db["messages"].insert_many([{"_id": m, "status": "queued"} for m in [*(f"m_{n}" for n in range(5)), "m_bad"]])
    async with OutboxStates(db, gather_s=0.2) as states:
        outcomes = await asyncio.gather(
            *(states.sent(f"m_{n}", [f"p{n}"], DeliveryStatus.SENT) for n in range(4)),
            states.advance("m_4", DeliveryStatus.DELIVERED), states.sent("m_4", ["p4"], DeliveryStatus.SENT),
            states.sent("m_bad", ["px"], DeliveryStatus.SENT), return_exceptions=True)  # $set outbox.state fails
        assert states.writes == 2
    assert outcomes[:6] == [None] * 6 and isinstance(outcomes[6], RuntimeError)
    entries = {d["_id"]: d async for d in db["outbox"].find({})}
    stored = {d["_id"]: d async for d in db["messages"].find({})}
    for n in range(4):
        assert (stored[f"m_{n}"]["status"], stored[f"m_{n}"]["provider_ids"]) == ("sent", [f"p{n}"])
        assert (entries[f"m_{n}"]["outbox"]["state"], entries[f"m_{n}"]["provider_ids"]) == ("done", [f"p{n}"])
    assert (stored["m_4"]["status"], stored["m_4"]["provider_ids"]) == ("delivered", ["p4"])  # never back to sent


async def test_outbox_states_coalesce_per_message_and_a_send_that_moves_no_status_writes_no_message(db: Db) -> None:
    """Kannel answers ``queued`` for a message stored ``queued``, under the message's own id, and then
    reports twice (SMSC ack, delivered), often within a few milliseconds (ADR 0061, 0068): in one
    batch that is one update of each entry (done, for the reports to find) and one of the message
    for the furthest status, not four; the message of a send with no report yet is not written."""
    await db["outbox"].insert_many([{"_id": m, "status": "queued", "outbox": {"state": "sending"}}
                                    for m in ("m_a", "m_b")])
    await db["messages"].insert_many([{"_id": m, "status": "queued"} for m in ("m_a", "m_b")])
    async with OutboxStates(db, gather_s=0.2) as states:
        await asyncio.gather(
            states.sent("m_a", ["m_a"], DeliveryStatus.QUEUED, DeliveryStatus.QUEUED),
            states.advance("m_a", DeliveryStatus.SENT), states.advance("m_a", DeliveryStatus.DELIVERED),
            states.sent("m_b", ["m_b"], DeliveryStatus.QUEUED, DeliveryStatus.QUEUED))
        assert (states.writes, states.updates, states.message_updates) == (2, 3, 1)
    entries = {d["_id"]: d async for d in db["outbox"].find({})}
    stored = {d["_id"]: d async for d in db["messages"].find({})}
    assert stored == {"m_a": {"_id": "m_a", "status": "delivered"}, "m_b": {"_id": "m_b", "status": "queued"}}
    assert [(e["outbox"]["state"], e["provider_ids"]) for e in entries.values()] == [("done", ["m_a"]),
                                                                                    ("done", ["m_b"])]
