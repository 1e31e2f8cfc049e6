"""The outbox: staff messages waiting for their channel, one entry each in the ``outbox`` collection.

A message for SMS, e-mail or Telegram is stored with an entry of its own (ADR 0068): a copy of the
message's document, same ``_id``, with ``outbox = {state, due_at, attempts, lease_until, claim,
thread, error}`` and, once the channel took it, its ``provider_ids``. The entry is written before
the message (``MongoMessageStore.add_outbound``), so a crash between "agent pressed send" and "the
channel took it" loses nothing: workers in any hub process claim due entries with a lease
(``sending`` until ``lease_until``); an entry whose worker died is claimed again after its lease,
and its message document is stored from the entry then if the crash came before it was. The
message itself keeps only what the console shows (``status``) and the thread needs.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pymongo.errors import BulkWriteError

from hub.domain.ids import DeliveryStatus
from hub.storage.database import DUPLICATE_KEY, Db
from hub.storage.outbox_states import OutboxStates

PENDING, SENDING, DONE, FAILED = "pending", "sending", "done", "failed"
ENTRY_ONLY = ("outbox", "provider_ids")  # the entry's fields that are not the message's
CLAIM_RACES = 5  # candidates lost to other processes before this one gives up until its next look


class MongoOutboxStore:
    def __init__(self, db: Db) -> None:
        self._outbox = db["outbox"]
        self._messages = db["messages"]
        # Sends' outcomes and delivery reports, written in batches (runs inside ``hub.outbox.Outbox``).
        self.states = OutboxStates(db)

    async def claim_due(self, now: datetime, *, lease_s: float, limit: int = 1) -> list[dict[str, Any]]:
        """Take up to ``limit`` due entries (or ones whose lease ran out) for sending, oldest due
        first; ``attempts`` counts each.

        Find candidates through the outbox index, claim them by ``_id`` with the same condition in
        one ``update_many`` marked with this claim's token (compare-and-set: of two processes, each
        entry goes to one, and the loser looks again), then read back what carries the token. Three
        round trips per batch of entries (ADR 0061; one entry at a time before), because
        SecantusDB's find-and-modify walks the whole collection when it matches (0.3 s at 20,000
        messages); MongoDB is fast either way."""
        token = secrets.token_hex(8)
        claim = {"$set": {"outbox.state": SENDING, "outbox.lease_until": now + timedelta(seconds=lease_s),
                          "outbox.claim": token},
                 "$inc": {"outbox.attempts": 1}}
        claimed: list[dict[str, Any]] = []
        for due in ({"outbox.state": PENDING, "outbox.due_at": {"$lte": now}},
                    {"outbox.state": SENDING, "outbox.lease_until": {"$lte": now}}):
            for _ in range(CLAIM_RACES):
                wanted = limit - len(claimed)
                if wanted <= 0:
                    break
                candidates = [doc["_id"] async for doc in self._outbox.find(
                    due, {"_id": 1}, sort=[("outbox.due_at", 1)], limit=wanted)]
                if not candidates:
                    break
                won = await self._outbox.update_many({"_id": {"$in": candidates}, **due}, claim)
                if won.modified_count:
                    taken = await self._outbox.find({"_id": {"$in": candidates}, "outbox.claim": token}).to_list(None)
                    if due["outbox.state"] == SENDING:
                        await self._restore_messages(taken)
                    claimed.extend(taken)
        claimed.sort(key=lambda doc: doc["outbox"]["due_at"])
        return claimed

    async def _restore_messages(self, entries: list[dict[str, Any]]) -> None:
        """Entries taken over from a process that died: one may have died between storing the entry
        and its message; the message is stored from the entry then (a stored one is kept as it is)."""
        if not entries:
            return
        docs = [{k: v for k, v in entry.items() if k not in ENTRY_ONLY} for entry in entries]
        try:
            await self._messages.insert_many(docs, ordered=False)
        except BulkWriteError as err:
            if {e["code"] for e in err.details.get("writeErrors", [])} - {DUPLICATE_KEY}:
                raise

    async def sent(self, message_id: str, provider_ids: list[str], status: DeliveryStatus,
                   stored: DeliveryStatus | None = None) -> None:
        """The channel took the message. Forward-only on ``status`` (a fast DLR may have come first;
        not written when no further than ``stored``, the status it was sent with); batched with
        other sends' outcomes, stored when this returns."""
        await self.states.sent(message_id, provider_ids, status, stored)

    async def advance(self, message_id: str, status: DeliveryStatus) -> None:
        """A delivery report, forward only; batched like ``sent``."""
        await self.states.advance(message_id, status)

    async def retry(self, message_id: str, due_at: datetime, error: str) -> None:
        await self._outbox.update_one(
            {"_id": message_id, "outbox.state": SENDING},
            {"$set": {"outbox.state": PENDING, "outbox.due_at": due_at, "outbox.error": error[:300]}})

    async def failed(self, message_id: str, error: str) -> None:
        """The send failed for good: the entry says why, the message shows ``failed``."""
        await self._outbox.update_one({"_id": message_id},
                                      {"$set": {"outbox.state": FAILED, "outbox.error": error[:300]}})
        await self._messages.update_one({"_id": message_id}, {"$set": {"status": DeliveryStatus.FAILED.value}})

    async def by_provider_id(self, channel: str, provider_id: str) -> dict[str, Any] | None:
        """The entry of the send a delivery report names (its ``status``: the message's when queued)."""
        return await self._outbox.find_one({"channel": channel, "provider_ids": provider_id},
                                             {"conversation_id": 1, "author": 1, "status": 1})

    async def thread_of(self, conversation_id: str, channel: str) -> list[Mapping[str, Any]]:
        """The conversation's messages on ``channel`` that carry provider ids, oldest first.
        Read by conversation (the timeline index) and filtered here: a conversation is short."""
        cursor = self._messages.find(
            {"conversation_id": conversation_id},
            {"channel": 1, "inbound": 1, "external_id": 1, "provider_ids": 1, "meta": 1, "sent_at": 1},
        ).sort("sent_at", 1)
        return [doc async for doc in cursor.limit(1000)
                if doc.get("channel") == channel and (doc.get("inbound") or doc.get("provider_ids"))]
