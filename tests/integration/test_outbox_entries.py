"""The outbox's entries in a collection of their own (ADR 0068): an SMS reply writes its message
document twice (stored, then the delivery reports' status), an older hub's entries on message
documents are moved at start and still sent, and a message whose entry outlived it is stored again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from pymongo import ASCENDING, IndexModel
from redis.asyncio import Redis

from hub.domain.ids import DeliveryStatus
from hub.domain.outbound import Outbound, SendResult
from hub.storage.database import Db, ensure_indexes
from hub.storage.outbox_migration import move_outbox_entries
from hub.storage.upgrades import prepare_database
from tests.conftest import eventually
from tests.integration.test_outbox import ScriptedSender, agent_holding, hub_with, settings_for
from tests.opcounts import WRITES, collection_writes, settled


class KannelLikeSender(ScriptedSender):
    """Answers as Kannel's adapter does: the message's own id (its DLR ref), still ``queued``."""

    async def send(self, outbound: Outbound) -> SendResult:
        await super().send(outbound)
        return SendResult(provider_ids=(str(outbound.message_id),), status=DeliveryStatus.QUEUED)


async def test_an_sms_reply_writes_its_message_twice(
        mongo_url: str, redis_url: str, redis: Redis, db_name: str, db: Db) -> None:
    """Stored (with its entry, apart), then the status of Kannel's two reports in one update; the
    send's answer (``queued``, under the message's own id) is written to the entry alone.
    Before ADR 0068: three or four writes of a document with four secondary indexes."""
    sender = KannelLikeSender("sms")
    async with hub_with(settings_for(db_name), sender, mongo_url, redis_url) as hub:
        agent, conversation_id = await agent_holding(hub, "我家停电了", "kannel-w1")
        await settled(db, WRITES)
        messages, entries = await collection_writes(db, "messages"), await collection_writes(db, "outbox")
        reply = await agent.reply(conversation_id, "我们马上派人处理。")
        await eventually(lambda: _entry_state(db, reply["id"], "done"))
        outbox = hub.context.outbox
        assert all(await asyncio.gather(outbox.delivery_report("sms", reply["id"], DeliveryStatus.SENT),
                                        outbox.delivery_report("sms", reply["id"], DeliveryStatus.DELIVERED)))
        await agent.next("status", message_id=reply["id"], status="delivered")
        await settled(db, WRITES)
        assert await collection_writes(db, "messages") - messages == 2
        assert await collection_writes(db, "outbox") - entries == 2  # stored, done
        doc = await db["messages"].find_one({"_id": reply["id"]})
        assert doc is not None and doc["status"] == "delivered" and "outbox" not in doc
        await agent.close()


def _old_message(message_id: str, state: str, **fields: object) -> dict[str, object]:
    now = datetime.now(UTC)
    return {"_id": message_id, "conversation_id": "c_old", "channel": "sms", "author": "agent",
            "author_id": "a_alice", "author_name": "Alice", "text": f"text of {message_id}", "sent_at": now,
            "status": "queued", "private": False, "inbound": False, "address": "+8613800138000",
            "outbox": {"state": state, "due_at": now, "attempts": 0}, **fields}


OLD_INDEXES = [IndexModel([("outbox.state", ASCENDING), ("outbox.due_at", ASCENDING)], sparse=True,
                          name="outbox_due_sparse"),
               IndexModel([("provider_ids", ASCENDING)], sparse=True, name="provider_ids_sparse")]


async def test_an_older_hubs_entries_are_moved_at_start_and_still_sent(
        mongo_url: str, redis_url: str, redis: Redis, db_name: str, db: Db) -> None:
    await db["messages"].create_indexes(OLD_INDEXES)
    await db["messages"].insert_many([_old_message("m_old_pending", "pending"),
                                      _old_message("m_old_done", "done", status="sent", provider_ids=["m_old_done"])])
    sender = ScriptedSender("sms")
    async with hub_with(settings_for(db_name), sender, mongo_url, redis_url) as hub:  # prepare_database moves them
        await eventually(lambda: [o.message_id for o in sender.sent] == ["m_old_pending"])
        await eventually(lambda: _entry_state(db, "m_old_pending", "done"))
        # A delivery report of a send before the upgrade still finds its message.
        assert await hub.context.outbox.delivery_report("sms", "m_old_done", DeliveryStatus.DELIVERED)
        await eventually(lambda: _status(db, "m_old_done", "delivered"))
    assert [doc async for doc in db["messages"].find({"outbox": {"$exists": True}})] == []
    names = {index["name"] async for index in await db["messages"].list_indexes()}
    assert names.isdisjoint({"outbox_due_sparse", "provider_ids_sparse"})
    assert await move_outbox_entries(db) == 0  # idempotent: nothing left, and no scan


async def test_an_interrupted_move_is_finished_and_keeps_what_the_outbox_did_since(db: Db) -> None:
    """Also when two processes start at once: both move, neither fails on the other's work."""
    await db["messages"].create_indexes(OLD_INDEXES)
    await db["messages"].insert_many([_old_message("m_half", "pending"), _old_message("m_other", "pending")])
    await db["outbox"].insert_one(_old_message("m_half", "done", provider_ids=["m_half"]))  # copied, then sent
    await asyncio.gather(prepare_database(db), prepare_database(db))
    assert await db["outbox"].count_documents({}) == 2
    entry = await db["outbox"].find_one({"_id": "m_half"})
    assert entry is not None and entry["outbox"]["state"] == "done"
    assert "outbox" not in (await db["messages"].find_one({"_id": "m_half"}) or {"outbox": 1})


async def test_an_entry_whose_message_was_never_stored_is_sent_and_stored_after_its_lease(
        mongo_url: str, redis_url: str, redis: Redis, db_name: str, db: Db) -> None:
    """A process died between storing the entry and its message: after the lease the entry is taken
    over, the message stored from it (the console shows it) and sent."""
    entry = _old_message("m_orphan", "sending")
    entry["outbox"] = {"state": "sending", "due_at": datetime.now(UTC), "attempts": 1,
                       "lease_until": datetime.now(UTC)}
    await ensure_indexes(db)
    await db["outbox"].insert_one(entry)
    sender = ScriptedSender("sms")
    async with hub_with(settings_for(db_name), sender, mongo_url, redis_url):
        await eventually(lambda: [o.message_id for o in sender.sent] == ["m_orphan"])
        await eventually(lambda: _status(db, "m_orphan", "sent"))


async def _entry_state(db: Db, message_id: str, state: str) -> bool:
    doc = await db["outbox"].find_one({"_id": message_id})
    return doc is not None and doc["outbox"]["state"] == state


async def _status(db: Db, message_id: str, status: str) -> bool:
    doc = await db["messages"].find_one({"_id": message_id}, {"status": 1})
    return doc is not None and doc["status"] == status
