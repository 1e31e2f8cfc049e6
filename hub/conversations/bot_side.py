"""The bot's side of a conversation: what ``bot.service`` reads, says and hands over."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.conversations.core import ConversationCore
from hub.conversations.outgoing import Outgoing
from hub.conversations.transitions import Transitions
from hub.domain.events import EventType, MessageStored
from hub.domain.ids import Author, DeliveryStatus, MessageId, new_id
from hub.domain.model import Conversation, Message
from hub.domain.states import ConversationState
from hub.domain.text import require_valid_text
from hub.wire import message_json

BOT_NAME = "Northgrid assistant"


class BotSide:
    """Implements ``hub.ports.BotConversations``."""

    def __init__(self, core: ConversationCore, transitions: Transitions, outgoing: Outgoing) -> None:
        self._core = core
        self._transitions = transitions
        self._outgoing = outgoing

    async def bot_reply(self, conversation_id: str, text: str, buttons: list[dict[str, str]]) -> Message | None:
        """Store and send one bot message, unless a human took the conversation meanwhile."""
        require_valid_text("bot reply", {"text": text, "buttons": buttons})
        conversation = await self._core.conversations.get(conversation_id)
        if conversation.state is not ConversationState.BOT:
            return None  # the bot never speaks in a conversation held by a human
        route = await self._outgoing.route(conversation)
        message = await self._outgoing.store(Message(
            id=MessageId(new_id("m")), conversation_id=conversation.id, channel=route.channel,
            author=Author.BOT, author_id="bot", author_name=BOT_NAME, text=text, sent_at=self._core.clock.now(),
            status=DeliveryStatus.SENT, buttons=tuple(buttons), address=route.address,
        ), thread=route.thread)
        await self._core.tell(MessageStored(conversation_id=conversation.id, holder=None,
                                            message=message_json(message, live=self._core.live)))
        return message

    async def conversation(self, conversation_id: str) -> Conversation:
        return await self._core.conversations.get(conversation_id)

    async def transcript(self, conversation_id: str) -> list[Message]:
        return await self._core.messages.timeline(conversation_id, include_private=False)

    async def bot_memory(self, conversation_id: str) -> dict[str, Any]:
        return await self._core.conversations.bot_memory(conversation_id)

    async def remember_bot_turn(self, conversation_id: str, intent: str | None, confidence: float,
                                fallbacks: int) -> None:
        await self._core.conversations.remember_bot_turn(conversation_id, intent, confidence, fallbacks)

    async def queue_for_humans(self, conversation: Conversation, queue_id: str, *, event_type: EventType,
                               handover: Mapping[str, Any] | None = None,
                               detail: Mapping[str, str] | None = None) -> Conversation:
        """Hand the conversation over: into ``queue_id``, with the handover context for the agent."""
        return await self._transitions.queue_for_humans(conversation, queue_id, event_type=event_type,
                                                        handover=handover, detail=detail)
