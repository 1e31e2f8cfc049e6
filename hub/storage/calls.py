"""Call records in MongoDB (``calls``): one document per call, its steps appended in order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.errors import DuplicateKeyError, PyMongoError

from hub.domain.calls import CallRecord, CallStep, Party, Step
from hub.domain.ids import AgentId, ConversationId
from hub.errors import ServiceUnavailable
from hub.storage.database import Db, Document

LIVE_LIMIT = 10_000  # reconciliation reads the live calls at once; a PBX holds far fewer


class MongoCallStore:
    """Implements ``hub.ports.CallRecords``; a MongoDB failure is ``ServiceUnavailable``."""

    def __init__(self, db: Db) -> None:
        self._calls = db["calls"]

    async def open(self, call: CallRecord) -> bool:
        """Store a new call; False when a call with this id exists (the PBX asked twice)."""
        try:
            await self._calls.insert_one(_doc_of(call))
        except DuplicateKeyError:
            return False
        except PyMongoError as err:
            raise ServiceUnavailable("call records unavailable") from err
        return True

    async def get(self, call_id: str) -> CallRecord | None:
        return await self._one({"_id": call_id})

    async def of_conversation(self, conversation_id: str) -> CallRecord | None:
        return await self._one({"conversation_id": conversation_id})

    async def live(self) -> list[CallRecord]:
        try:
            docs = await self._calls.find({"ended_at": None}).to_list(LIVE_LIMIT)
        except PyMongoError as err:
            raise ServiceUnavailable("call records unavailable") from err
        return [_record_of(d) for d in docs]

    async def note(self, call_id: str, step: CallStep, changes: Mapping[str, Any] | None = None, *,
                   unless_ended: bool = False, recording: str | None = None) -> CallRecord | None:
        """Append ``step`` and set ``changes``; returns the record after, None when there is no such
        call (or, with ``unless_ended``, when it has ended: a late PBX event changes nothing)."""
        query: dict[str, Any] = {"_id": call_id}
        if unless_ended:
            query["ended_at"] = None
        update: dict[str, Any] = {"$push": {"steps": _step_doc(step)}}
        if recording is not None:
            update["$push"]["recordings"] = recording
        if changes:
            update["$set"] = {k: _value(v) for k, v in changes.items()}
        try:
            doc = await self._calls.find_one_and_update(query, update, return_document=True)
        except PyMongoError as err:
            raise ServiceUnavailable("call records unavailable") from err
        return _record_of(doc) if doc is not None else None

    async def _one(self, query: Document) -> CallRecord | None:
        try:
            doc = await self._calls.find_one(query)
        except PyMongoError as err:
            raise ServiceUnavailable("call records unavailable") from err
        return _record_of(doc) if doc is not None else None


def _value(value: Any) -> Any:
    return value.value if isinstance(value, Party | Step) else value


def _step_doc(step: CallStep) -> Document:
    return {"at": step.at, "step": step.step.value, "detail": dict(step.detail)}


def _doc_of(call: CallRecord) -> Document:
    return {"_id": call.call_id, "conversation_id": call.conversation_id, "caller": call.caller,
            "caller_channel": call.caller_channel, "started_at": call.started_at, "choice": call.choice,
            "agent_id": call.agent_id, "agent_leg": call.agent_leg, "answered_at": call.answered_at,
            "held_since": call.held_since, "hold_s": call.hold_s, "ended_at": call.ended_at,
            "ended_by": _value(call.ended_by) if call.ended_by else None, "callback": call.callback,
            "outbound": call.outbound, "recordings": list(call.recordings),
            "steps": [_step_doc(s) for s in call.steps]}


def _record_of(doc: Document) -> CallRecord:
    return CallRecord(
        call_id=doc["_id"], conversation_id=ConversationId(doc["conversation_id"]), caller=doc["caller"],
        caller_channel=doc["caller_channel"], started_at=doc["started_at"], choice=doc.get("choice"),
        agent_id=AgentId(doc["agent_id"]) if doc.get("agent_id") else None, agent_leg=doc.get("agent_leg"),
        answered_at=doc.get("answered_at"), held_since=doc.get("held_since"),
        hold_s=float(doc.get("hold_s") or 0.0), ended_at=doc.get("ended_at"),
        ended_by=Party(doc["ended_by"]) if doc.get("ended_by") else None, callback=bool(doc.get("callback")),
        outbound=bool(doc.get("outbound")),
        recordings=tuple(doc.get("recordings") or ()),
        steps=tuple(CallStep(at=s["at"], step=Step(s["step"]), detail=s.get("detail") or {})
                    for s in doc.get("steps", [])))

