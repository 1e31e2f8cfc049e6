"""The outbox claims due entries in batches (issue 11 item 4, ADR 0061), counted with SecantusDB's
own opcounters: 30 due entries are one claiming update and a few reads, not three round trips
each; two processes claiming at once share them, each entry claimed exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from hub.storage.database import Db
from hub.storage.outbox import MongoOutboxStore

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


async def _ops(db: Db) -> dict[str, int]:
    counters = (await db.client.admin.command("serverStatus"))["opcounters"]
    return {k: int(counters[k]) for k in ("query", "getmore", "update")}


async def _due(db: Db, n: int, prefix: str) -> None:
    await db["outbox"].insert_many([
        {"_id": f"{prefix}{i:02d}", "conversation_id": f"c_{i % 7}", "channel": "sms", "status": "queued",
         "text": "停电通知", "sent_at": NOW, "outbox": {"state": "pending", "attempts": 0,
                                                          "due_at": NOW - timedelta(seconds=n - i)}}
        for i in range(n)])


async def test_thirty_due_entries_are_one_claim(db: Db) -> None:
    await _due(db, 30, "m_c")
    store = MongoOutboxStore(db)
    before = await _ops(db)
    claimed = await store.claim_due(NOW, lease_s=60, limit=50)
    after = await _ops(db)
    assert [doc["_id"] for doc in claimed] == [f"m_c{i:02d}" for i in range(30)], "oldest due first"
    assert all(doc["outbox"]["state"] == "sending" and doc["outbox"]["attempts"] == 1 for doc in claimed)
    assert after["update"] - before["update"] == 1
    assert after["query"] + after["getmore"] - before["query"] - before["getmore"] <= 4
    assert await store.claim_due(NOW, lease_s=60, limit=50) == []


async def test_two_claimers_share_the_entries_each_once(db: Db) -> None:
    await _due(db, 30, "m_r")
    one, two = MongoOutboxStore(db), MongoOutboxStore(db)
    first, second = await asyncio.gather(one.claim_due(NOW, lease_s=60, limit=20),
                                         two.claim_due(NOW, lease_s=60, limit=20))
    ids = [doc["_id"] for doc in first + second]
    assert len(ids) == len(set(ids)) == 30
    stored = [doc async for doc in db["outbox"].find({"_id": {"$regex": "^m_r"}})]
    assert all(doc["outbox"]["attempts"] == 1 for doc in stored)
