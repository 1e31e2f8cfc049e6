"""Work orders in MongoDB: one document per order (the aggregate, its timers and history), saved
whole with optimistic concurrency on ``version``; order numbers from ``counters/work_orders``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from hub.domain.ids import ContactId, ConversationId
from hub.errors import ConcurrentUpdate, NotFound
from hub.storage.database import Db, increment
from hub.work_orders.kinds import OrderType
from hub.work_orders.model import UNSENT, HistoryEntry, WorkOrder
from hub.work_orders.sla import Pause, TimerName, TimerRun
from hub.work_orders.states import OrderState

OPEN_STATES = [s.value for s in OrderState if s is not OrderState.CLOSED]
INDEXES = [
    IndexModel([("number", ASCENDING)], unique=True, name="number"),
    IndexModel([("state", ASCENDING), ("department", ASCENDING)], name="state_department"),
    IndexModel([("department", ASCENDING), ("created_at", DESCENDING)], name="department_created"),
    IndexModel([("contact_id", ASCENDING), ("survey", ASCENDING)], name="contact_survey"),
    IndexModel([("conversation_id", ASCENDING)], name="conversation"),
    IndexModel([("history.notice", ASCENDING)], name="pending_notices"),
]
MAX_LIST = 500


class MongoWorkOrderStore:
    def __init__(self, db: Db) -> None:
        self._orders = db["work_orders"]
        self._counters = db["counters"]

    async def ensure_indexes(self) -> None:
        await self._orders.create_indexes(INDEXES)

    async def next_number(self) -> str:
        return f"WO{await increment(self._counters, 'work_orders'):06d}"

    async def insert(self, order: WorkOrder) -> None:
        try:
            await self._orders.insert_one(order_to_doc(order))
        except DuplicateKeyError as err:
            raise ConcurrentUpdate(f"work order {order.number} exists already") from err

    async def save(self, order: WorkOrder) -> WorkOrder:
        """Store ``order`` (version n) over version n-1; ConcurrentUpdate when someone came first."""
        result = await self._orders.replace_one({"_id": order.id, "version": order.version - 1}, order_to_doc(order))
        if result.matched_count == 0:
            raise ConcurrentUpdate(f"work order {order.number} changed meanwhile; reload and try again")
        return order

    async def get(self, order_id: str) -> WorkOrder:
        doc = await self._orders.find_one({"_id": order_id})
        if doc is None:
            raise NotFound(f"no work order {order_id}")
        return order_from_doc(doc)

    async def by_number(self, number: str) -> WorkOrder | None:
        doc = await self._orders.find_one({"number": number})
        return order_from_doc(doc) if doc else None

    async def find(self, *, department: str | None = None, state: str | None = None, breached: bool | None = None,
                   conversation_id: str | None = None, limit: int = 100) -> list[WorkOrder]:
        query: dict[str, Any] = {}
        if department is not None:
            query["department"] = department
        if state is not None:
            query["state"] = state
        if breached is not None:
            query["breached"] = {"$ne": []} if breached else []
        if conversation_id is not None:
            query["conversation_id"] = conversation_id
        cursor = self._orders.find(query).sort("created_at", DESCENDING).limit(min(limit, MAX_LIST))
        return [order_from_doc(doc) async for doc in cursor]

    async def open_orders(self) -> list[WorkOrder]:
        """Every order whose timers may still move (the SLA sweep's input)."""
        return [order_from_doc(doc) async for doc in self._orders.find({"state": {"$in": OPEN_STATES}})]

    async def with_pending_notices(self, limit: int = 100) -> list[WorkOrder]:
        cursor = self._orders.find({"history.notice": {"$in": sorted(UNSENT)}}).limit(limit)
        return [order_from_doc(doc) async for doc in cursor]

    async def closed_unsurveyed(self, limit: int = 100) -> list[WorkOrder]:
        cursor = self._orders.find({"state": OrderState.CLOSED.value, "survey": None,
                                    "conversation_id": {"$ne": None}}).limit(limit)
        return [order_from_doc(doc) async for doc in cursor]

    async def calling(self, limit: int = 100) -> list[WorkOrder]:
        """Closed orders whose callback survey is being asked by phone (hub/work_orders/call_survey.py)."""
        cursor = self._orders.find({"state": OrderState.CLOSED.value, "survey": "calling"}).limit(limit)
        return [order_from_doc(doc) async for doc in cursor]

    async def in_survey(self, contact_id: str) -> list[WorkOrder]:
        cursor = self._orders.find({"contact_id": contact_id, "survey": "asked"}).sort("created_at", DESCENDING)
        return [order_from_doc(doc) async for doc in cursor]

    async def mark_notice(self, order_id: str, n: int, *, expect: str | None, value: str) -> bool:
        """Compare-and-set entry ``n``'s notice from ``expect`` to ``value`` (claim it, or record the
        message id it was queued as); False when another process moved it first."""
        field = f"history.{n - 1}.notice"  # the history only grows: entry n is at index n - 1
        result = await self._orders.update_one({"_id": order_id, field: expect}, {"$set": {field: value}})
        return result.modified_count == 1


def order_to_doc(order: WorkOrder) -> dict[str, Any]:
    return {
        "_id": order.id, "number": order.number, "type": order.type.value, "fields": dict(order.fields),
        "state": order.state.value, "version": order.version, "conversation_id": order.conversation_id,
        "contact_id": order.contact_id, "language": order.language, "created_by": order.created_by,
        "created_at": order.created_at, "department": order.department,
        "timers": {name.value: _run_to_doc(run) for name, run in order.timers.items()},
        "warned": sorted(order.warned), "breached": sorted(order.breached), "escalation": order.escalation,
        "survey": order.survey, "survey_score": order.survey_score,
        "history": [_entry_to_doc(e) for e in order.history],
    }


def _run_to_doc(run: TimerRun) -> dict[str, Any]:
    return {"started_at": run.started_at, "stopped_at": run.stopped_at,
            "pauses": [{"start": p.start, "end": p.end} for p in run.pauses]}


def _entry_to_doc(entry: HistoryEntry) -> dict[str, Any]:
    return {"n": entry.n, "action": entry.action, "at": entry.at, "actor": entry.actor, "state": entry.state.value,
            "department": entry.department, "text": entry.text, "timer": entry.timer, "notice": entry.notice}


def order_from_doc(doc: Mapping[str, Any]) -> WorkOrder:
    return WorkOrder(
        id=doc["_id"], number=doc["number"], type=OrderType(doc["type"]),
        fields=MappingProxyType(dict(doc.get("fields", {}))), state=OrderState(doc["state"]),
        version=int(doc["version"]),
        conversation_id=ConversationId(doc["conversation_id"]) if doc.get("conversation_id") else None,
        contact_id=ContactId(doc["contact_id"]) if doc.get("contact_id") else None,
        language=doc.get("language", "en"), created_by=doc["created_by"], created_at=doc["created_at"],
        department=doc.get("department"),
        timers=MappingProxyType({TimerName(k): _run_from_doc(v) for k, v in doc.get("timers", {}).items()}),
        warned=frozenset(TimerName(t) for t in doc.get("warned", ())),
        breached=frozenset(TimerName(t) for t in doc.get("breached", ())),
        escalation=doc.get("escalation"), survey=doc.get("survey"), survey_score=doc.get("survey_score"),
        history=tuple(_entry_from_doc(e) for e in doc.get("history", ())),
    )


def _run_from_doc(doc: Mapping[str, Any]) -> TimerRun:
    return TimerRun(started_at=doc["started_at"], stopped_at=doc.get("stopped_at"),
                    pauses=tuple(Pause(p["start"], p.get("end")) for p in doc.get("pauses", ())))


def _entry_from_doc(doc: Mapping[str, Any]) -> HistoryEntry:
    at: datetime = doc["at"]
    return HistoryEntry(n=int(doc["n"]), action=doc["action"], at=at, actor=doc["actor"],
                        state=OrderState(doc["state"]), department=doc.get("department"), text=doc.get("text", ""),
                        timer=doc.get("timer"), notice=doc.get("notice"))
