"""Work-order milestones in the conversation: the customer's notice (through the outbox, never sent
directly) and a private note in the conversation's timeline for every history entry."""

from __future__ import annotations

from collections.abc import Mapping

from hub.conversations.core import ConversationCore
from hub.conversations.outgoing import Outgoing
from hub.domain.events import MessageStored
from hub.domain.ids import Author, ChannelName, ConversationId, DeliveryStatus, MessageId, new_id
from hub.domain.model import Conversation, Message
from hub.domain.outbound import Route
from hub.wire import message_json

AUTHOR_NAME = "Work orders"
NOT_REPLYABLE = frozenset({"webchat", "voice"})  # the customer may be gone: SMS to the order's phone instead


class ConversationNotices:
    """Writes into a conversation on the work orders' behalf. ``sms`` says whether SMS is configured."""

    def __init__(self, core: ConversationCore, outgoing: Outgoing, *, sms: bool) -> None:
        self._core = core
        self._outgoing = outgoing
        self._sms = sms

    async def tell(self, conversation_id: str, text: str, *, phone: str | None) -> str:
        """Queue ``text`` to the customer on the channel they last wrote from (by SMS to ``phone``
        when that channel has no way back once the customer left); returns the message id."""
        conversation = await self._core.conversations.get(conversation_id)
        route = await self._outgoing.route(conversation)
        if route.channel in NOT_REPLYABLE and phone and self._sms:
            route = Route("sms", phone)  # a new thread: what the customer wrote elsewhere does not apply
        return await self._write(conversation, text, channel=route.channel, address=route.address, private=False,
                                 thread=route.thread)

    async def note(self, conversation_id: str, text: str) -> str:
        """A private note (never leaves the hub): the order's history in the conversation's timeline."""
        conversation = await self._core.conversations.get(conversation_id)
        return await self._write(conversation, text, channel=conversation.channel, address=None, private=True)

    async def _write(self, conversation: Conversation, text: str, *, channel: ChannelName, address: str | None,
                     private: bool, thread: Mapping[str, str] | None = None) -> str:
        message = await self._outgoing.store(Message(
            id=MessageId(new_id("m")), conversation_id=ConversationId(conversation.id), channel=channel,
            author=Author.SYSTEM, author_id=None, author_name=AUTHOR_NAME, text=text, sent_at=self._core.clock.now(),
            status=DeliveryStatus.SENT, private=private, address=address), thread=thread)
        await self._core.tell(MessageStored(conversation_id=conversation.id, holder=conversation.agent_id,
                                            message=message_json(message, live=self._core.live)))
        return message.id
