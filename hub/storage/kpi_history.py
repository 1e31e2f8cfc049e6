"""Reading the KPI history (``hub.kpi_ports.KpiRecords``): ``kpi_intervals`` by time, and the
events and conversations a drill-down lists."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from typing import Any

from hub.domain.agent_states import StateSpan
from hub.domain.model import Team
from hub.domain.stream import StoredEvent, event_from_doc
from hub.kpi_fcr import Opened
from hub.kpi_intervals import Bucket, Counts
from hub.kpi_ports import ConversationLine
from hub.storage.agent_states import MongoAgentStateLog
from hub.storage.database import Db, chunked
from hub.storage.directory import team_from_doc
from hub.storage.eventlog import MongoEventStream
from hub.storage.kpi_intervals import COLLECTION


class MongoKpiRecords:
    def __init__(self, db: Db) -> None:
        self._intervals = db[COLLECTION]
        self._events = db["events"]
        self._conversations = db["conversations"]
        self._stream = MongoEventStream(db)
        self._states = MongoAgentStateLog(db)
        self._teams = db["teams"]

    async def intervals(self, start: datetime, end: datetime) -> list[tuple[Bucket, Counts]]:
        cursor = self._intervals.find({"interval": {"$gte": start, "$lt": end}}, {"applied": 0})
        return [(Bucket(doc["interval"].astimezone(UTC), doc["queue"], doc["channel"], doc["agent"]),
                 dict(doc.get("c", {}))) async for doc in cursor]

    async def events(self, start: datetime, end: datetime, types: Collection[str], *, channel: str | None,
                     limit: int) -> list[StoredEvent]:
        query: dict[str, Any] = {"type": {"$in": sorted(types)}, "at": {"$gte": start, "$lt": end}}
        if channel:
            query["channel"] = channel
        cursor = self._events.find(query, {"changes": 0}).sort([("at", 1), ("_id", 1)]).limit(limit)
        return [event_from_doc({"seq": 0, **doc}) async for doc in cursor]

    async def histories(self, conversation_ids: Iterable[str]) -> dict[str, list[StoredEvent]]:
        return await self._stream.histories(conversation_ids)

    async def opened_by(self, contact_ids: Iterable[str], start: datetime, end: datetime) -> list[Opened]:
        out: list[Opened] = []
        for ids in chunked(contact_ids):  # a long $in is slow on SecantusDB (hub/storage/database.py)
            query = {"contact_id": {"$in": ids}, "created_at": {"$gt": start, "$lte": end}}
            cursor = self._conversations.find(query, {"contact_id": 1, "queue": 1, "created_at": 1})
            out += [Opened(conversation_id=doc["_id"], contact_id=str(doc["contact_id"]),
                           queue=str(doc.get("queue") or ""), created_at=doc["created_at"]) async for doc in cursor]
        return out

    async def lines(self, conversation_ids: Iterable[str]) -> dict[str, ConversationLine]:
        fields = {"contact_id": 1, "channel": 1, "state": 1, "contact_name": 1, "created_at": 1}
        out: dict[str, ConversationLine] = {}
        for ids in chunked(conversation_ids):
            async for doc in self._conversations.find({"_id": {"$in": ids}}, fields):
                out[doc["_id"]] = ConversationLine(id=doc["_id"], contact_id=str(doc.get("contact_id") or ""),
                                                   channel=str(doc.get("channel", "")),
                                                   state=str(doc.get("state", "")),
                                                   contact_name=str(doc.get("contact_name") or ""),
                                                   created_at=doc.get("created_at"))
        return out

    async def state_spans(self, start: datetime, end: datetime) -> list[StateSpan]:
        return await self._states.spans(since=start, until=end)

    async def teams(self) -> list[Team]:
        return [team_from_doc(doc) async for doc in self._teams.find().sort("_id", 1)]
