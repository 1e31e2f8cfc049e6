"""Connecting to MongoDB and creating every index at start-up."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

logger = logging.getLogger(__name__)

Document = dict[str, Any]
DUPLICATE_KEY = 11000  # MongoDB's error code for a unique key taken (pymongo names no constant)
Db = AsyncDatabase[Document]
# SecantusDB's ``$in`` costs about the square of its list (966 ids: 4.6 s in one query, 0.7 s in
# chunks of 50; bench/README.md "KPI projection and history"); a mongod takes 50 as well.
IN_CHUNK = 50


def chunked(values: Iterable[str], size: int = IN_CHUNK) -> list[list[str]]:
    """Sorted, de-duplicated ``values`` in lists of at most ``size`` (for ``$in`` queries)."""
    ordered = sorted(set(values))
    return [ordered[i:i + size] for i in range(0, len(ordered), size)]

INDEXES: dict[str, list[IndexModel]] = {
    "messages": [
        # Inbound idempotency: the same provider message stored once, whatever the retries
        # (``inbound_key`` = "<channel>:<external id>", on customer messages only). Sparse, not
        # partial: SecantusDB's planner ignores partial indexes (a dedupe lookup scanned every
        # message, ~0.7 s at 20,000), and staff messages, which lack the field, cost it nothing.
        # SecantusDB maintains every index on every update, so the messages collection keeps only the
        # two every message needs; the outbox's are on its own collection (ADR 0068).
        IndexModel([("inbound_key", ASCENDING)], unique=True, sparse=True, name="inbound_key"),
        IndexModel([("conversation_id", ASCENDING), ("sent_at", ASCENDING)], name="timeline"),
    ],
    # One entry per staff message on its way to a channel (hub/storage/outbox.py): due ones are
    # claimed by state and time; delivery reports name the provider's id of a send.
    "outbox": [IndexModel([("outbox.state", ASCENDING), ("outbox.due_at", ASCENDING)], name="due"),
               IndexModel([("provider_ids", ASCENDING)], sparse=True, name="provider_ids_sparse")],
    "attachments": [IndexModel([("message_id", ASCENDING)], name="message")],
    "audit": [IndexModel([("at", ASCENDING)], name="at"),
              IndexModel([("contacts", ASCENDING), ("at", DESCENDING)], name="contacts")],
    "events": [
        IndexModel([("conversation_id", ASCENDING), ("version", ASCENDING)], unique=True, name="conv_version"),
        IndexModel([("at", ASCENDING)], name="at"),
        IndexModel([("type", ASCENDING), ("at", ASCENDING)], name="type_at"),
        IndexModel([("agent_id", ASCENDING), ("type", ASCENDING), ("at", DESCENDING)], name="agent_type_at"),
        # The durable consumers' order (hub/storage/eventlog.py). Sparse: events of an older hub
        # lack it until they are numbered.
        IndexModel([("seq", ASCENDING)], unique=True, sparse=True, name="seq"),
    ],
    # The durable KPI projection (hub/storage/kpi_intervals.py); history reads by time, queue, agent.
    "kpi_intervals": [IndexModel([("interval", ASCENDING), ("queue", ASCENDING)], name="interval_queue"),
                      IndexModel([("agent", ASCENDING), ("interval", ASCENDING)], name="agent_interval")],
    "conversations": [
        IndexModel([("state", ASCENDING), ("queue", ASCENDING)], name="state_queue"),
        IndexModel([("agent_id", ASCENDING), ("state", ASCENDING)], name="agent_state"),
        IndexModel([("contact_id", ASCENDING), ("created_at", DESCENDING)], name="contact"),
        # The console's label filter (hub/storage/conversation_search.py); most conversations have none.
        IndexModel([("labels", ASCENDING)], sparse=True, name="labels_sparse"),
        # Snoozed conversations by due time (hub/snoozes.py); most never had a snooze.
        IndexModel([("snoozed_until", ASCENDING)], sparse=True, name="snoozed_until_sparse"),
    ],
    # Conversation search terms (hub/domain/finding.py), one document per conversation, written only
    # by the ``search`` durable consumer: kept apart from the conversations written on the message path.
    "conversation_search": [IndexModel([("terms", ASCENDING)], name="terms"),
                            IndexModel([("indexed_at", DESCENDING)], name="indexed_at")],
    "contacts": [IndexModel([("identities", ASCENDING)], unique=True, name="identities"),
                 # identities on their way from a merged contact to its survivor (hub/storage/contacts.py)
                 IndexModel([("merged_identities", ASCENDING)], sparse=True, name="merged_identities"),
                 IndexModel([("merged_into", ASCENDING)], sparse=True, name="merged_into")],
    "agents": [IndexModel([("username", ASCENDING)], unique=True, name="username")],
    "teams": [IndexModel([("leader_id", ASCENDING)], name="leader")],
    # Agent state spans (hub/storage/agent_states.py): the open one per agent, and reads by time.
    "agent_states": [IndexModel([("agent_id", ASCENDING), ("to", ASCENDING)], name="agent_to"),
                     IndexModel([("from", ASCENDING)], name="from")],
    # Phone calls (hub/storage/calls.py): by conversation, and the live ones for reconciliation.
    "calls": [IndexModel([("conversation_id", ASCENDING)], name="conversation"),
              IndexModel([("ended_at", ASCENDING)], name="ended_at")],
    "sessions": [IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="ttl"),
                 IndexModel([("agent_id", ASCENDING)], name="agent")],  # revoking an agent's sessions
}


async def increment(counters: AsyncCollection[Document], counter_id: str, n: int = 1, field: str = "seq") -> int:
    """Add ``n`` to a counter document, creating it on first use; returns the new value.

    The increment never upserts: processes creating the same counter at once race on the upsert
    (a mongod may answer the loser with a duplicate key; SecantusDB answered no document although
    it had applied the ``$inc``, so a retry counted twice, and a second hub died on it in CI).
    The document is created apart, with ``$setOnInsert``, which is harmless to repeat.
    """
    for _ in range(3):
        doc = await counters.find_one_and_update({"_id": counter_id}, {"$inc": {field: n}},
                                                 projection={field: 1}, return_document=ReturnDocument.AFTER)
        if doc is not None:
            return int(doc[field])
        with contextlib.suppress(DuplicateKeyError):  # another process created it first
            await counters.update_one({"_id": counter_id}, {"$setOnInsert": {field: 0}}, upsert=True)
    raise RuntimeError(f"counter {counter_id!r} could not be created")


# Pooled connections idle longer than this are dropped by the client and opened again. SecantusDB closes
# a client connection idle for 300 s, and the next command on it failed with AutoReconnect: `hub bot
# train` lost a 44-minute BANKING77 training when its first progress write after the classifier's
# 40 quiet minutes met a closed connection (issue 17, ADR 0057).
MAX_IDLE_MS = 60_000


def connect(url: str) -> AsyncMongoClient[Document]:
    """A client with short server selection, so a dead MongoDB gives a clear error quickly."""
    return AsyncMongoClient(url, serverSelectionTimeoutMS=5000, tz_aware=True, uuidRepresentation="standard",
                            maxIdleTimeMS=MAX_IDLE_MS)


async def ensure_indexes(db: Db) -> None:
    """Idempotent: creating an existing index with the same options is a no-op."""
    for collection, models in INDEXES.items():
        await db[collection].create_indexes(models)
    logger.info("storage.indexes.ready collections=%d", len(INDEXES))
