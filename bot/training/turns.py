"""The bot's turns in MongoDB (``bot_turns``): what the customer wrote and how the bot read it.

``BotService`` records every turn (``record``); the trainer console lists the low-confidence and
handed-over ones with the agent's wrap-up code, and marks them reviewed once a trainer labelled them.
Recording is best effort: a failed write is logged and never fails the customer's turn.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pymongo.errors import PyMongoError

from bot.training.text import clean, language_of
from hub.clock import Clock
from hub.domain.ids import new_id
from hub.domain.training import BotTurnRecord
from hub.errors import NotFound
from hub.storage.database import Db

logger = logging.getLogger(__name__)

MAX_TURN_CHARS = 1000


def turn_from_doc(doc: Mapping[str, Any], wrap_up_code: str | None = None) -> BotTurnRecord:
    return BotTurnRecord(
        id=doc["_id"], conversation_id=doc["conversation_id"], text=doc["text"], intent=doc.get("intent"),
        confidence=float(doc.get("confidence", 0.0)), handed_over=bool(doc.get("handed_over")),
        reason=doc.get("reason"), at=doc["at"], language=doc.get("language", "en"),
        reviewed_intent=doc.get("reviewed_intent"), reviewed_by=doc.get("reviewed_by"), wrap_up_code=wrap_up_code)


class MongoTurnLog:
    """Implements ``bot.service.TurnLog`` and the trainer's view of the turns."""

    def __init__(self, db: Db, clock: Clock) -> None:
        self._turns = db["bot_turns"]
        # Read-only: the wrap-up code an agent gave the conversation (hub.storage owns the collection).
        self._conversations = db["conversations"]
        self._clock = clock

    async def record(self, *, conversation_id: str, text: str, intent: str | None, confidence: float,
                     handed_over: bool, reason: str | None) -> None:
        text = clean(text)[:MAX_TURN_CHARS]
        try:
            await self._turns.insert_one({
                "_id": new_id("t"), "conversation_id": conversation_id, "text": text, "intent": intent,
                "confidence": round(confidence, 4), "handed_over": handed_over, "reason": reason,
                "language": language_of(text), "at": self._clock.now(), "reviewed_intent": None})
        except PyMongoError as err:
            logger.warning("bot.turns.record_failed conv=%s error=%s", conversation_id, type(err).__name__)

    async def for_review(self, *, below: float, limit: int, pending_only: bool) -> list[BotTurnRecord]:
        """Handed-over turns and turns with confidence under ``below``, newest first."""
        query: dict[str, Any] = {"$or": [{"handed_over": True}, {"confidence": {"$lt": below}}]}
        if pending_only:
            query["reviewed_intent"] = None
        docs = await self._turns.find(query).sort("at", -1).limit(limit).to_list(None)
        ids = sorted({d["conversation_id"] for d in docs})
        codes = {c["_id"]: c.get("wrap_up_code")
                 async for c in self._conversations.find({"_id": {"$in": ids}}, {"wrap_up_code": 1})}
        return [turn_from_doc(d, codes.get(d["conversation_id"])) for d in docs]

    async def turn(self, turn_id: str) -> BotTurnRecord:
        doc = await self._turns.find_one({"_id": turn_id})
        if doc is None:
            raise NotFound(f"no bot turn {turn_id}")
        return turn_from_doc(doc)

    async def mark_reviewed(self, turn_id: str, intent: str, by: str) -> None:
        await self._turns.update_one({"_id": turn_id}, {"$set": {
            "reviewed_intent": intent, "reviewed_by": by, "reviewed_at": self._clock.now()}})
