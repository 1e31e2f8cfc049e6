"""The agents' state spans in MongoDB (``agent_states``), behind ``hub.ports.AgentStateLog``.

One document per span: ``{_id, agent_id, state, reason, kind, from, to}``, ``to`` null while the
agent is in it (ADR 0026). Recording a change inserts the new span first, then closes every other
open span of the agent at its start, so a crash between the two leaves at worst an open span
that the next change closes; a span is never lost.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from hub.domain.agent_states import PauseKind, StateSpan
from hub.domain.ids import AgentId, AgentStatus, new_id
from hub.storage.database import Db


def span_from_doc(doc: Mapping[str, Any]) -> StateSpan:
    kind = doc.get("kind")
    return StateSpan(agent_id=AgentId(doc["agent_id"]), status=AgentStatus(doc["state"]), reason=doc.get("reason"),
                     kind=PauseKind(kind) if kind else None, started_at=doc["from"], ended_at=doc.get("to"))


class MongoAgentStateLog:
    """Implements ``hub.ports.AgentStateLog``."""

    def __init__(self, db: Db) -> None:
        self._spans = db["agent_states"]

    async def record(self, span: StateSpan) -> None:
        span_id = new_id("st")
        await self._spans.insert_one({
            "_id": span_id, "agent_id": span.agent_id, "state": span.status.value, "reason": span.reason,
            "kind": span.kind.value if span.kind else None, "from": span.started_at, "to": None})
        await self._spans.update_many({"agent_id": span.agent_id, "to": None, "_id": {"$ne": span_id}},
                                      {"$set": {"to": span.started_at}})

    async def spans(self, *, since: datetime, until: datetime,
                    agent_ids: Collection[str] | None = None) -> list[StateSpan]:
        query: dict[str, Any] = {"from": {"$lt": until}, "$or": [{"to": None}, {"to": {"$gt": since}}]}
        if agent_ids is not None:
            query["agent_id"] = {"$in": list(agent_ids)}
        return [span_from_doc(doc) async for doc in self._spans.find(query).sort("from", 1)]
