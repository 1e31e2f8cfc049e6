"""The ``surveys`` collection: one document per surveyed conversation (``_id`` = the conversation).

Every change is a conditional update on the survey's state, so two processes (or a redelivered
message) never answer, re-ask or stop one survey twice. ``refs`` lists the external ids of the
customer messages the survey consumed: a provider's redelivery of one is recognised as a repeat.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from hub.domain.surveys import Survey, SurveyState
from hub.storage.database import Db

COLLECTION = "surveys"
INDEXES = [
    IndexModel([("key", ASCENDING), ("state", ASCENDING), ("offered_at", DESCENDING)], name="open_by_key"),
    IndexModel([("contact_id", ASCENDING), ("channel", ASCENDING), ("state", ASCENDING)], name="open_by_contact"),
    IndexModel([("expires_at", ASCENDING)], name="by_expiry"),  # the addresses asked (hub.surveys.open_keys)
]


def survey_from_doc(doc: dict[str, Any]) -> Survey:
    return Survey(conversation_id=doc["_id"], contact_id=doc.get("contact_id", ""), channel=doc["channel"],
                  key=doc.get("key", ""), agent_id=doc.get("agent_id"), queue=doc.get("queue"),
                  language=doc.get("language", "en"), state=SurveyState(doc["state"]),
                  offered_at=doc["offered_at"], expires_at=doc["expires_at"], reasks=int(doc.get("reasks", 0)),
                  score=doc.get("score"), answered_at=doc.get("answered_at"))


class MongoSurveyStore:
    def __init__(self, db: Db) -> None:
        self._surveys = db[COLLECTION]

    async def ensure_indexes(self) -> None:
        await self._surveys.create_indexes(INDEXES)

    async def offer(self, survey: Survey) -> bool:
        """Insert the survey (not yet asked); False when the conversation has one already."""
        doc: dict[str, Any] = {
            "_id": survey.conversation_id, "contact_id": survey.contact_id, "channel": survey.channel,
            "key": survey.key, "agent_id": survey.agent_id, "queue": survey.queue, "language": survey.language,
            "state": survey.state.value, "offered_at": survey.offered_at, "expires_at": survey.expires_at,
            "reasks": survey.reasks, "score": survey.score, "answered_at": survey.answered_at,
            "asked": False, "closed": False, "refs": []}
        try:
            await self._surveys.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def get(self, conversation_id: str) -> Survey | None:
        doc = await self._surveys.find_one({"_id": conversation_id})
        return survey_from_doc(doc) if doc else None

    async def flags(self, conversation_id: str) -> dict[str, bool]:
        doc = await self._surveys.find_one({"_id": conversation_id}, {"asked": 1, "closed": 1})
        return {"asked": bool(doc and doc.get("asked")), "closed": bool(doc and doc.get("closed"))}

    async def find_by_key(self, key: str, ref: str, now: datetime) -> tuple[Survey | None, bool]:
        """The survey open for the customer address ``key`` (``False``), or the one that already took
        the message ``ref`` (``True``: a provider's redelivery); one query for both."""
        return await self._find({"key": key}, ref, now)

    async def find_by_contact(self, contact_id: str, channel: str, ref: str, now: datetime,
                              ) -> tuple[Survey | None, bool]:
        return await self._find({"contact_id": contact_id, "channel": channel}, ref, now)

    async def _find(self, match: dict[str, Any], ref: str, now: datetime) -> tuple[Survey | None, bool]:
        query = {**match, "$or": [{"refs": ref},
                                  {"state": SurveyState.OPEN.value, "asked": True, "expires_at": {"$gt": now}}]}
        doc = await self._surveys.find_one(query, sort=[("offered_at", DESCENDING)])
        if doc is None:
            return None, False
        return survey_from_doc(doc), ref in doc.get("refs", ())

    async def asked_keys(self, now: datetime) -> list[tuple[str, datetime]]:
        """``(key, expires_at)`` of every survey asked that has not expired, whatever its state."""
        cursor = self._surveys.find({"expires_at": {"$gt": now}, "asked": True}, {"key": 1, "expires_at": 1})
        return [(doc["key"], doc["expires_at"]) async for doc in cursor if doc.get("key")]

    async def mark_asked(self, conversation_id: str, at: datetime) -> None:
        await self._surveys.update_one({"_id": conversation_id}, {"$set": {"asked": True, "asked_at": at}})

    async def unmark_asked(self, conversation_id: str) -> None:
        """The question could not be sent after all: not asked, so the offer's retry asks again."""
        await self._surveys.update_one({"_id": conversation_id}, {"$set": {"asked": False}, "$unset": {"asked_at": ""}})

    async def reask(self, conversation_id: str, ref: str, at: datetime) -> bool:
        """Count the one re-ask; False when another process got there first (or it was used)."""
        result = await self._surveys.update_one(
            {"_id": conversation_id, "state": SurveyState.OPEN.value, "reasks": {"$lt": 1}},
            {"$inc": {"reasks": 1}, "$push": {"refs": ref}, "$set": {"reasked_at": at}})
        return result.modified_count == 1

    async def answer(self, conversation_id: str, score: int, at: datetime, ref: str | None = None,
                     *, from_states: tuple[SurveyState, ...] = (SurveyState.OPEN,)) -> bool:
        """Store the score once; False when the survey was not open (answered, stopped, expired)."""
        query: dict[str, Any] = {"_id": conversation_id, "state": {"$in": [s.value for s in from_states]}}
        update: dict[str, Any] = {"$set": {"state": SurveyState.ANSWERED.value, "score": score, "answered_at": at}}
        if ref is not None:
            update["$push"] = {"refs": ref}
        result = await self._surveys.update_one(query, update)
        return result.modified_count == 1

    async def stop(self, conversation_id: str, at: datetime, ref: str | None = None) -> bool:
        update: dict[str, Any] = {"$set": {"state": SurveyState.STOPPED.value, "stopped_at": at}}
        result = await self._surveys.update_one({"_id": conversation_id, "state": SurveyState.OPEN.value}, update)
        return result.modified_count == 1

    async def mark_closed(self, conversation_id: str) -> None:
        await self._surveys.update_one({"_id": conversation_id}, {"$set": {"closed": True}})

    async def drop(self) -> None:
        await self._surveys.drop()
