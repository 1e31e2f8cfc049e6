"""The customer inbox with the work orders' callback survey in front (回访 by SMS, e-mail, Telegram).

A reply that answers an order in survey ("1", "WO000012 2", ``hub.work_orders.survey``) while the
customer has no open conversation is stored in the order's own conversation, finished as it is:
it starts no new conversation and reaches neither the bot nor an agent's queue. Its
``MessageStored`` fact is what records the answer (``hub.work_orders.callback.SurveyReplies``),
as for a reply into an open conversation. Anything else goes on to the inbox unchanged.
"""

from __future__ import annotations

from typing import Any

from hub.conversations.core import ConversationCore
from hub.conversations.in_front import InboxInFront
from hub.domain.contacts import default_contact_name
from hub.domain.events import MessageStored
from hub.domain.ids import Author, ConversationId, DeliveryStatus, MessageId, new_id
from hub.domain.model import Conversation, InboundMessage, Message
from hub.domain.received import ConversationRef, Received
from hub.domain.text import require_valid_text
from hub.errors import NotFound
from hub.ports import SessionInbox
from hub.storage.work_orders import MongoWorkOrderStore
from hub.wire import message_json
from hub.work_orders.survey import parse_answer


class OrderSurveyInbox(InboxInFront):
    """``hub.ports.SessionInbox`` over the customer inbox (``hub.conversations.customers``)."""

    def __init__(self, inbox: SessionInbox, core: ConversationCore, store: MongoWorkOrderStore) -> None:
        super().__init__(inbox)
        self._core = core
        self._store = store

    async def accept_inbound(self, inbound: InboundMessage) -> Received:
        answered = await self._order_conversation(inbound)
        if answered is None:
            return await self._inbox.accept_inbound(inbound)
        conversation, contact = answered
        return await self._store_in(conversation, inbound, contact)

    async def _order_conversation(self, inbound: InboundMessage) -> tuple[Conversation, dict[str, Any]] | None:
        """The finished conversation of the order this message answers, when it answers one and the
        customer has no open conversation (an open one takes the reply as any message)."""
        answer = parse_answer(inbound.text) if not inbound.attachments else None
        if answer is None:
            return None
        require_valid_text("message", {"text": inbound.text, "payload": inbound.payload})
        name = inbound.sender_name or default_contact_name(inbound.channel, inbound.sender)
        contact = await self._inbox.contact_for(inbound.channel, inbound.sender, name)
        asked = [o for o in await self._store.in_survey(contact["_id"]) if o.conversation_id]
        order = (next((o for o in asked if o.number == answer.number), None) if answer.number
                 else asked[0] if len(asked) == 1 else None)
        if order is None or order.conversation_id is None:
            return None
        if await self._inbox.open_conversation(contact["_id"]) is not None:
            return None
        try:
            return await self._core.conversations.get(order.conversation_id), contact
        except NotFound:
            return None

    async def _store_in(self, conversation: Conversation, inbound: InboundMessage, contact: dict[str, Any],
                        ) -> Received:
        earlier = await self._core.messages.find_inbound(inbound.channel, inbound.external_id)
        if earlier is not None:
            return Received(earlier, ConversationRef.of(conversation), True)
        message = Message(
            id=MessageId(new_id("m")), conversation_id=ConversationId(conversation.id), channel=inbound.channel,
            author=Author.CUSTOMER, author_id=contact["_id"], author_name=contact.get("display_name", ""),
            text=inbound.text, sent_at=self._core.clock.now(), status=DeliveryStatus.SENT,
            external_id=inbound.external_id, address=inbound.sender, meta=inbound.meta)
        stored = await self._core.messages.add(message)
        if not stored.duplicate:
            await self._core.tell(MessageStored(conversation_id=conversation.id, holder=None,
                                                message=message_json(stored.message, live=self._core.live)))
        return Received(stored.message, ConversationRef.of(conversation), stored.duplicate)
