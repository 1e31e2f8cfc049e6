"""The widget WebSockets this process holds, indexed by conversation, fed by typed facts from the bus.

The fan-out never waits: each frame is encoded once and queued on each session's ``SocketWriter``
(a widget that stops reading is disconnected; it reconnects and sends ``hello`` with ``since``).
After a gap in the bus (``BusResubscribed``: facts published meanwhile are lost) every widget of this
process gets a ``resync`` frame, on which it connects again and replays what it missed the same way
(ADR 0060).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.domain.events import (
    BusResubscribed,
    ConversationChanged,
    MessagesDelivered,
    MessageStored,
    StatusChanged,
    TypingChanged,
)
from hub.domain.ids import Author, ConversationId
from hub.domain.received import ConversationRef
from hub.domain.states import OPEN_STATES
from hub.ports import EventBus
from hub.socket_writer import SocketWriter

SUBSCRIBER = "webchat:widgets"
RESYNC_FRAME = '{"type":"resync"}'


@dataclass(slots=True, eq=False)
class WidgetSession:
    """One connected widget (one browser tab) after its hello. Every write goes through ``writer``."""

    writer: SocketWriter
    visitor_id: str
    contact_id: str
    contact_name: str
    conversation: ConversationRef | None = None
    attached: set[str] = field(default_factory=set)


class WidgetSessions:
    def __init__(self) -> None:
        self._by_contact: dict[str, set[WidgetSession]] = {}
        self._by_conversation: dict[str, set[WidgetSession]] = {}

    def listen(self, bus: EventBus) -> None:
        """Wiring: one subscriber for every kind, so that frames keep the bus order."""
        bus.subscribe(ConversationChanged, self._on_conversation, subscriber=SUBSCRIBER)
        bus.subscribe(MessageStored, self._on_message, subscriber=SUBSCRIBER)
        bus.subscribe(StatusChanged, self._on_status, subscriber=SUBSCRIBER)
        bus.subscribe(MessagesDelivered, self._on_delivered, subscriber=SUBSCRIBER)
        bus.subscribe(TypingChanged, self._on_typing, subscriber=SUBSCRIBER)
        bus.subscribe(BusResubscribed, self._on_resubscribed, subscriber=SUBSCRIBER)

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

    async def _on_resubscribed(self, fact: BusResubscribed) -> None:
        for sessions in list(self._by_contact.values()):
            for session in list(sessions):
                session.writer.send_text(RESYNC_FRAME)

    async def _on_message(self, fact: MessageStored) -> None:
        if fact.author is not Author.CUSTOMER and not fact.private:
            public = {k: v for k, v in fact.message.items() if k != "private"}
            self._send(fact.conversation_id, {"type": "message", "message": public})

    async def _on_status(self, fact: StatusChanged) -> None:
        if fact.author is Author.CUSTOMER:
            self._send(fact.conversation_id, {"type": "status", "message_id": fact.message_id,
                                              "status": fact.status.value})

    async def _on_delivered(self, fact: MessagesDelivered) -> None:
        for status in fact.statuses():
            await self._on_status(status)

    async def _on_typing(self, fact: TypingChanged) -> None:
        if fact.who is Author.AGENT:
            self._send(fact.conversation_id, {"type": "typing", "active": fact.active})

    async def _on_conversation(self, fact: ConversationChanged) -> None:
        state = fact.state
        ref = ConversationRef(ConversationId(fact.conversation_id), state, fact.agent_id)
        for session in list(self._by_contact.get(fact.summary["contact"]["id"], ())):
            current = session.conversation
            if current is None or current.id == ref.id or state in OPEN_STATES:
                self.attach(session, ref)

    def _send(self, conversation_id: str, frame: Mapping[str, Any]) -> None:
        sessions = self._by_conversation.get(conversation_id)
        if sessions:
            data = json.dumps(frame, separators=(",", ":"))
            for session in list(sessions):
                session.writer.send_text(data)


def _discard(index: dict[str, set[WidgetSession]], key: str, session: WidgetSession) -> None:
    members = index.get(key)
    if members is not None:
        members.discard(session)
        if not members:
            del index[key]
