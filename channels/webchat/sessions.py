"""The widget WebSockets this process holds, indexed by conversation, fed from the bus."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from hub.domain.ids import AgentId, Author, ConversationId
from hub.domain.states import OPEN_STATES, ConversationState
from hub.service import ConversationRef


@dataclass(slots=True, eq=False)
class WidgetSession:
    """One connected widget (one browser tab) after its hello."""

    ws: web.WebSocketResponse
    visitor_id: str
    contact_id: str
    contact_name: str
    conversation: ConversationRef | None = None
    attached: set[str] = field(default_factory=set)


class WidgetSessions:
    def __init__(self) -> None:
        self._by_contact: dict[str, set[WidgetSession]] = {}
        self._by_conversation: dict[str, set[WidgetSession]] = {}

    def add(self, session: WidgetSession) -> None:
        self._by_contact.setdefault(session.contact_id, set()).add(session)
        if session.conversation:
            self.attach(session, session.conversation)

    def attach(self, session: WidgetSession, conversation: ConversationRef) -> None:
        session.conversation = conversation
        if conversation.id not in session.attached:
            session.attached.add(conversation.id)
            self._by_conversation.setdefault(conversation.id, set()).add(session)

    def remove(self, session: WidgetSession) -> None:
        _discard(self._by_contact, session.contact_id, session)
        for conversation_id in session.attached:
            _discard(self._by_conversation, conversation_id, session)

    async def on_bus(self, event: Mapping[str, Any]) -> None:
        kind = event.get("t")
        if kind == "conversation":
            self._on_conversation(event["summary"])
        elif kind == "message":
            message = event["message"]
            if message["author"] != Author.CUSTOMER and not message.get("private"):
                public = {k: v for k, v in message.items() if k != "private"}
                await self._send(event["conversation_id"], {"type": "message", "message": public})
        elif kind == "status" and event.get("author") == Author.CUSTOMER:
            await self._send(event["conversation_id"], {"type": "status", "message_id": event["message_id"],
                                                        "status": event["status"]})
        elif kind == "typing" and event.get("who") == Author.AGENT:
            await self._send(event["conversation_id"], {"type": "typing", "active": bool(event["active"])})

    def _on_conversation(self, summary: Mapping[str, Any]) -> None:
        state = ConversationState(summary["state"])
        ref = ConversationRef(ConversationId(summary["id"]), state,
                              AgentId(summary["agent_id"]) if summary.get("agent_id") else None)
        for session in list(self._by_contact.get(summary["contact"]["id"], ())):
            current = session.conversation
            if current is None or current.id == ref.id or state in OPEN_STATES:
                self.attach(session, ref)

    async def _send(self, conversation_id: str, frame: Mapping[str, Any]) -> None:
        for session in list(self._by_conversation.get(conversation_id, ())):
            with contextlib.suppress(ConnectionError, RuntimeError):
                await session.ws.send_json(frame)


def _discard(index: dict[str, set[WidgetSession]], key: str, session: WidgetSession) -> None:
    members = index.get(key)
    if members is not None:
        members.discard(session)
        if not members:
            del index[key]
