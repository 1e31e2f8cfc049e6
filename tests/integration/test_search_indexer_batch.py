"""The search consumer reads a batch's conversations, messages and contacts with one query per
collection and writes their terms with one bulk write (issue 11, ADR 0058), counted with
SecantusDB's own opcounters; the terms are those of each conversation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.clock import SystemClock
from hub.domain.stream import StoredEvent
from hub.finding import SearchIndexer
from hub.storage.conversation_search import MongoConversationSearch
from hub.storage.database import Db
from tests import opcounts

CONVERSATIONS = 12


async def test_a_batch_of_events_costs_one_read_per_collection_and_one_write(db: Db) -> None:
    at = datetime.now(UTC)
    await db["contacts"].insert_many([{"_id": f"k{i}", "display_name": f"Customer{i}", "identities": [
        f"sms:+861380013{i:04d}"]} for i in range(CONVERSATIONS)])
    await db["conversations"].insert_many([{"_id": f"c{i}", "contact_id": f"k{i}", "contact_name": ""}
                                           for i in range(CONVERSATIONS)])
    await db["messages"].insert_many([
        {"_id": f"m{i}-{j}", "conversation_id": f"c{i}", "private": j == 2, "sent_at": at + timedelta(seconds=j),
         "text": f"meter{i} word{j}"} for i in range(CONVERSATIONS) for j in range(3)])
    batch = [StoredEvent(seq=n, id=f"c{i}:{v}", conversation_id=f"c{i}", version=v, type=kind, from_state=None,
                         to_state="queued", at=at, channel="sms")
             for n, (i, v, kind) in enumerate([(i, v, kind) for i in range(CONVERSATIONS)
                                               for v, kind in ((1, "queued"), (2, "assigned"))])]
    batch.append(StoredEvent(seq=999, id="c_gone:1", conversation_id="c_gone", version=1, type="queued",
                             from_state=None, to_state="queued", at=at, channel="sms"))  # no such conversation

    before = await opcounts.opcounters(db)
    await SearchIndexer(MongoConversationSearch(db), SystemClock()).handle(batch)
    done = opcounts.difference(before, await opcounts.opcounters(db))

    assert done.get("query", 0) + done.get("getmore", 0) == 3, "conversations, messages, contacts: one query each"
    assert done.get("insert", 0) + done.get("update", 0) <= 1, "one bulk write"
    docs = {d["_id"]: d["terms"] async for d in db["conversation_search"].find({})}
    assert sorted(docs) == sorted(f"c{i}" for i in range(CONVERSATIONS))
    for i in range(CONVERSATIONS):
        assert {f"meter{i}", "word0", "word1", f"customer{i}"} <= set(docs[f"c{i}"]), docs[f"c{i}"]
        assert "word2" not in docs[f"c{i}"], "private notes are not found"
