"""A customer inbox with something in front of it: the base of the decorators that read some
messages first (a survey's answer, a work order's callback answer) and hand the rest on.

Every ``hub.ports.SessionInbox`` method is forwarded unchanged; a decorator overrides only what it
reads first (``accept_inbound`` for store-and-forward channels, ``receive`` for live ones).
"""

from __future__ import annotations

from typing import Any

from hub.domain.ids import Author, ChannelName, DeliveryStatus
from hub.domain.model import Conversation, InboundMessage
from hub.domain.received import ConversationRef, Received
from hub.ports import SessionInbox


class InboxInFront:
    """``hub.ports.SessionInbox`` forwarding everything to the inbox behind it."""

    def __init__(self, inbox: SessionInbox) -> None:
        self._inbox = inbox

    async def accept_inbound(self, inbound: InboundMessage) -> Received:
        return await self._inbox.accept_inbound(inbound)

    async def receive(self, inbound: InboundMessage, *, contact_id: str, contact_name: str,
                      known: ConversationRef | None) -> Received:
        return await self._inbox.receive(inbound, contact_id=contact_id, contact_name=contact_name, known=known)

    async def contact_for(self, channel: ChannelName, address: str, display_name: str) -> dict[str, Any]:
        return await self._inbox.contact_for(channel, address, display_name)

    async def open_conversation(self, contact_id: str) -> Conversation | None:
        return await self._inbox.open_conversation(contact_id)

    async def after_customer_message(self, received: Received, payload: str | None = None) -> None:
        await self._inbox.after_customer_message(received, payload)

    async def typing(self, conversation_id: str, who: Author, active: bool) -> None:
        await self._inbox.typing(conversation_id, who, active)

    async def receipts(self, conversation_id: str, message_ids: list[str], status: DeliveryStatus,
                       author: Author) -> None:
        await self._inbox.receipts(conversation_id, message_ids, status, author)
