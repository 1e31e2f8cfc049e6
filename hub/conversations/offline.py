"""The web chat's offline form (issue 16 item 6): a customer who finds no agent, or a queue outside
its business hours, leaves a message with a way back (e-mail or phone); it becomes a conversation
queued for a human, on the channel of that way back (``email`` or ``sms``), so that the agent's
reply reaches the customer through the outbox whenever it is written (ADR 0042).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from hub.conversations.core import ConversationCore
from hub.conversations.customers import CustomerInbox
from hub.conversations.transitions import Transitions
from hub.domain.customer_notices import OfflineMessage
from hub.domain.events import EventType
from hub.domain.ids import ExternalId, new_id
from hub.domain.model import InboundMessage
from hub.domain.states import ConversationState
from hub.errors import ConcurrentUpdate, IllegalTransition

logger = logging.getLogger(__name__)

OFFLINE_REASON = "offline_form"


class OfflineIntake:
    """Implements ``hub.ports.OfflineForms``."""

    def __init__(self, core: ConversationCore, inbox: CustomerInbox, transitions: Transitions) -> None:
        self._core = core
        self._inbox = inbox
        self._transitions = transitions

    async def take(self, form: OfflineMessage) -> str:
        """Store the message in the contact's open conversation (made if none) and queue it for a
        human unless a human already has it; returns the conversation id."""
        channel, address = form.way_back()
        contact = await self._inbox.contact_for(channel, address, form.name)
        inbound = InboundMessage(channel=channel, external_id=ExternalId(new_id("offline")), sender=address,
                                 text=form.text, received_at=self._core.clock.now(), sender_name=form.name,
                                 meta=form.meta())
        received = await self._inbox.receive(inbound, contact_id=contact["_id"],
                                             contact_name=contact["display_name"], known=None)
        conversation = await self._core.conversations.get(received.conversation.id)
        if conversation.state in (ConversationState.NEW, ConversationState.BOT):
            handover: dict[str, Any] = {
                "reason": OFFLINE_REASON, "intent": None, "confidence": 0.0, "intents": [], "entities": {},
                "summary": "Left with the offline form", "transcript": [], "language": form.language,
                "channel": channel}
            # Moved meanwhile (the bot handed it over): it is with the humans either way.
            with contextlib.suppress(IllegalTransition, ConcurrentUpdate):
                await self._transitions.queue_for_humans(conversation, form.queue, event_type=EventType.HANDED_OVER,
                                                         handover=handover, detail={"reason": OFFLINE_REASON})
        logger.info("offline.taken conv=%s channel=%s", conversation.id, channel)
        return conversation.id
