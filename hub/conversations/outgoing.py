"""Where a staff message (an agent's or the bot's) goes: pushed live, or through the outbox."""

from __future__ import annotations

from dataclasses import replace

from hub.conversations.core import ConversationCore
from hub.domain.ids import ChannelName, DeliveryStatus
from hub.domain.model import Conversation, Message
from hub.ports import OutboundQueue


class Outgoing:
    """Shared by the agent desk and the bot side. Until ``attach_outbox`` every reply is pushed live."""

    def __init__(self, core: ConversationCore) -> None:
        self._core = core
        self._outbox: OutboundQueue | None = None

    def attach_outbox(self, outbox: OutboundQueue) -> None:
        """Wiring: staff messages for channels that are not live are queued there instead of pushed."""
        self._outbox = outbox

    async def route(self, conversation: Conversation) -> tuple[ChannelName, str | None]:
        """Where a reply goes: the channel and address the customer last wrote from. A live
        conversation the customer never left needs no lookup (its connection is the only way back)."""
        if self._outbox is None or (conversation.channel in self._core.live and not conversation.multichannel):
            return conversation.channel, None
        last = await self._core.messages.last_inbound(conversation.id)
        if last is None or last.address is None:
            return conversation.channel, None
        return last.channel, last.address

    async def store(self, message: Message) -> Message:
        """Store a staff message; for store-and-forward channels together with its outbox entry."""
        if message.private or self._outbox is None or message.channel in self._core.live:
            await self._core.messages.add(message)
            return message
        queued = replace(message, status=DeliveryStatus.QUEUED)
        entry = self._outbox.claim_new()
        await self._core.messages.add_outbound(queued, entry)
        self._outbox.dispatch(queued, entry)
        return queued
