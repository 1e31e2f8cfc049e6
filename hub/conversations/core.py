"""What every side of a conversation shares: the stores, the clock and the bus."""

from __future__ import annotations

import logging
from collections.abc import Container
from dataclasses import dataclass

from hub.clock import Clock
from hub.conversations.current import CurrentConversations
from hub.conversations.known_routes import KnownRoutes
from hub.domain.events import Fact, StatusChanged, TypingChanged
from hub.domain.ids import Author, ConversationId, DeliveryStatus, MessageId
from hub.domain.model import Message
from hub.ports import EventBus
from hub.storage.conversations import MongoConversationStore
from hub.storage.messages import MongoMessageStore

logger = logging.getLogger(__name__)

STAFF = frozenset({Author.AGENT, Author.BOT})
MAX_RECEIPTS = 500  # message ids per receipt frame


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationCore:
    """Shared by the customer, agent, bot and transition sides (composition, not inheritance).

    ``live``: the channels whose customers hold a live connection (``Capabilities.live``): their
    messages carry no address, and replies to them are pushed on the bus instead of the outbox.
    """

    clock: Clock
    conversations: MongoConversationStore
    messages: MongoMessageStore
    bus: EventBus
    live: Container[str]
    current: CurrentConversations  # the message path's view of a conversation (no read per message)
    routes: KnownRoutes | None = None  # where replies go, known to the process (no read per reply)

    async def tell(self, fact: Fact) -> None:
        """Fan out a fact that is already stored. The bus is at-most-once (clients resync from
        MongoDB on reconnect), so a Redis hiccup here must not fail what was durably done."""
        try:
            await self.bus.publish(fact)
        except Exception:
            logger.warning("bus.publish.failed kind=%s", fact.KIND, exc_info=True)

    def stored(self, message: Message) -> None:
        """A customer message this process stored: its replies go back there (``KnownRoutes``)."""
        if self.routes is not None:
            self.routes.stored(message)

    async def receipts(self, conversation_id: str, message_ids: list[str], status: DeliveryStatus,
                       author: Author) -> None:
        """Delivered/read receipts for messages of ``author``; statuses only move forward.

        The customer's receipts (``Author.AGENT``) cover everything our side wrote, the bot's too."""
        authors = STAFF if author is Author.AGENT else frozenset({author})
        changed = await self.messages.advance_status(message_ids[:MAX_RECEIPTS], status, conversation_id, authors)
        for message_id in changed:
            await self.tell(StatusChanged(conversation_id=ConversationId(conversation_id),
                                          message_id=MessageId(message_id), status=status, author=author))

    async def typing(self, conversation_id: str, who: Author, active: bool) -> None:
        await self.tell(TypingChanged(conversation_id=ConversationId(conversation_id), who=who, active=active))
