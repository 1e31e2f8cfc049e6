"""The outbox: staff messages waiting for their channel, kept on the message documents themselves.

A message for SMS, e-mail or Telegram is stored with ``outbox = {state: pending, due_at,
attempts}`` in the same write as the message, so a crash between "agent pressed send" and "the
channel took it" loses nothing. Workers in any hub process claim due entries with a lease
(``sending`` until ``lease_until``); an entry whose worker died is claimed again after its lease.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from hub.domain.ids import DeliveryStatus
from hub.storage.database import Db
from hub.storage.outbox_states import OutboxStates

PENDING, SENDING, DONE, FAILED = "pending", "sending", "done", "failed"
CLAIM_RACES = 5  # candidates lost to other processes before this one gives up until its next look


class MongoOutboxStore:
    def __init__(self, db: Db) -> None:
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
                candidates = [doc["_id"] async for doc in self._messages.find(
                    due, {"_id": 1}, sort=[("outbox.due_at", 1)], limit=wanted)]
                if not candidates:
                    break
                won = await self._messages.update_many({"_id": {"$in": candidates}, **due}, claim)
                if won.modified_count:
                    claimed.extend(await self._messages.find(
                        {"_id": {"$in": candidates}, "outbox.claim": token}).to_list(None))
        claimed.sort(key=lambda doc: doc["outbox"]["due_at"])
        return claimed

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
        await self._messages.update_one(
            {"_id": message_id, "outbox.state": SENDING},
            {"$set": {"outbox.state": PENDING, "outbox.due_at": due_at, "outbox.error": error[:300]}})

    async def failed(self, message_id: str, error: str) -> None:
        await self._messages.update_one(
            {"_id": message_id},
            {"$set": {"outbox.state": FAILED, "outbox.error": error[:300], "status": DeliveryStatus.FAILED.value}})

    async def by_provider_id(self, channel: str, provider_id: str) -> dict[str, Any] | None:
        return await self._messages.find_one({"channel": channel, "provider_ids": provider_id},
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
