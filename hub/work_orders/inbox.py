"""The customer inbox with the work orders' callback survey in front (回访 by SMS, e-mail, Telegram).

A reply that answers an order in survey ("1", "WO000012 2", ``hub.work_orders.survey``) is recorded
on the order here, before the channel acknowledges the message (``hub.work_orders.callback``;
ADR 0066: not from a bus fact, which a process re-subscribing to the bus can miss). While the
customer has no open conversation the reply is stored in the order's own conversation, finished
as it is: it starts no new conversation and reaches neither the bot nor an agent's queue; into an
open conversation it goes on as any message. Anything else goes on to the inbox unchanged.
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
from hub.wire import message_json
from hub.work_orders.callback import SurveyReplies
from hub.work_orders.model import WorkOrder
from hub.work_orders.survey import parse_answer


class OrderSurveyInbox(InboxInFront):
    """``hub.ports.SessionInbox`` over the customer inbox (``hub.conversations.customers``)."""

    def __init__(self, inbox: SessionInbox, core: ConversationCore) -> None:
        super().__init__(inbox)
        self._core = core
        self._replies: SurveyReplies | None = None

    def attach(self, replies: SurveyReplies) -> None:
        """The answers' recorder, built with the work orders' desk after the inbox (hub/bootstrap.py)."""
        self._replies = replies

    async def accept_inbound(self, inbound: InboundMessage) -> Received:
        """Store-and-forward channels (SMS, e-mail, Telegram)."""
        answer = parse_answer(inbound.text) if not inbound.attachments and self._replies else None
        if answer is None or self._replies is None:
            return await self._inbox.accept_inbound(inbound)
        require_valid_text("message", {"text": inbound.text, "payload": inbound.payload})
        name = inbound.sender_name or default_contact_name(inbound.channel, inbound.sender)
        contact = await self._inbox.contact_for(inbound.channel, inbound.sender, name)
        order = await self._replies.order_answered(contact["_id"], answer)
        if order is None:
            return await self._inbox.accept_inbound(inbound)
        conversation = await self._finished_conversation(order, contact["_id"])
        if conversation is None:  # an open conversation takes the reply as any message
            await self._replies.answer(contact["_id"], answer, order)
            return await self._inbox.accept_inbound(inbound)
        # Stored first: a redelivery after a failure finds the message and the order still in survey.
        received = await self._store_in(conversation, inbound, contact)
        await self._replies.answer(contact["_id"], answer, order)
        return received

    async def receive(self, inbound: InboundMessage, *, contact_id: str, contact_name: str,
                      known: ConversationRef | None) -> Received:
        """Live channels (web chat): the reply is recorded, then goes on as any message."""
        answer = parse_answer(inbound.text) if not inbound.attachments and self._replies else None
        if answer is not None and self._replies is not None:
            await self._replies.answer(contact_id, answer)
        return await self._inbox.receive(inbound, contact_id=contact_id, contact_name=contact_name, known=known)

    async def _finished_conversation(self, order: WorkOrder, contact_id: str) -> Conversation | None:
        """The order's own conversation, when the customer has no open one."""
        if order.conversation_id is None or await self._inbox.open_conversation(contact_id) is not None:
            return None
        try:
            return await self._core.conversations.get(order.conversation_id)
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
