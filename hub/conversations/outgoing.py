"""Where a staff message (an agent's or the bot's) goes: pushed live, or through the outbox."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from hub.conversations.core import ConversationCore
from hub.domain.ids import DeliveryStatus
from hub.domain.model import Conversation, Message
from hub.domain.outbound import Route, reply_route
from hub.ports import OutboundQueue


class Outgoing:
    """Shared by the agent desk and the bot side. Until ``attach_outbox`` every reply is pushed live."""

    def __init__(self, core: ConversationCore) -> None:
        self._core = core
        self._outbox: OutboundQueue | None = None

    def attach_outbox(self, outbox: OutboundQueue) -> None:
        """Wiring: staff messages for channels that are not live are queued there instead of pushed."""
        self._outbox = outbox

    async def route(self, conversation: Conversation) -> Route:
        """Where a reply goes: the channel and address the customer last wrote from, with the thread
        a reply there needs (known to the process, ``KnownRoutes``: a read only on a miss; ``store``
        carries the thread in the outbox entry, so sending reads nothing). A live conversation the
        customer never left needs no lookup (its connection is the only way back)."""
        if self._outbox is None or (conversation.channel in self._core.live and not conversation.multichannel):
            return Route(conversation.channel, None)
        routes = self._core.routes
        thread = (await routes.thread(conversation.id) if routes is not None
                  else await self._core.messages.reply_thread(conversation.id))
        return reply_route(thread, conversation.channel)

    async def store(self, message: Message, thread: Mapping[str, str] | None = None) -> Message:
        """Store a staff message; for store-and-forward channels together with its outbox entry
        (with ``thread``, the route's thread context, when the caller routed the message)."""
        if message.private or self._outbox is None or message.channel in self._core.live:
            await self._core.messages.add(message)
            return message
        queued = replace(message, status=DeliveryStatus.QUEUED)
        entry = self._outbox.claim_new()
        if thread is not None:
            entry["thread"] = dict(thread)
        await self._core.messages.add_outbound(queued, entry)
        self._outbox.dispatch(queued, entry)
        return queued
