"""Conversation orchestration: inbound messages, agent replies, receipts and agent-driven transitions.

This is where storage, the router port and the bus meet; decisions stay in the state machine
and in ``routing.policy``. Every state change is stored (with its event) before it is published.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from hub.clock import Clock
from hub.domain.contacts import inbound_key
from hub.domain.events import ConversationChanged, EventType, Fact, MessageStored, StatusChanged, TypingChanged
from hub.domain.ids import (
    AgentId,
    Author,
    ChannelName,
    ContactId,
    ConversationId,
    DeliveryStatus,
    MessageId,
    QueueId,
    Role,
    new_id,
)
from hub.domain.model import Agent, AttachmentRef, Conversation, InboundMessage, Message
from hub.domain.outbound import chosen_button
from hub.domain.states import HELD_BY_AGENT, OPEN_STATES, ConversationState
from hub.domain.text import require_valid_text
from hub.domain.visibility import FINISHED, ConversationFacts, Sight, conversation_sight
from hub.errors import ConcurrentUpdate, Forbidden, InvalidInput, NotFound
from hub.ports import Assistant, EventBus, OutboundQueue, Router
from hub.storage.attachments import MongoAttachmentStore
from hub.storage.contacts import MongoContactStore
from hub.storage.conversations import MongoConversationStore, conversation_from_doc
from hub.storage.directory import MongoDirectory
from hub.storage.messages import MongoMessageStore
from hub.wire import message_json, summary_json

logger = logging.getLogger(__name__)

S = ConversationState
BOT_NAME = "Northgrid assistant"
STAFF = frozenset({Author.AGENT, Author.BOT})
SUPERVISING = frozenset({Role.SUPERVISOR, Role.ADMIN})
NUMBERED_ANSWER_MAX_CHARS = 60  # longer texts are never a quick-reply choice: skip the lookup
ENQUEUE_BUDGET_S = 1.0  # a first message waits no longer for Redis; routing's sweep enqueues it later
# Channels whose clients hold a live connection and get replies through the bus; every other
# channel's replies go through the outbox (which fails them when the channel is not configured).
PUSHED_LIVE: frozenset[str] = frozenset({"webchat"})


@dataclass(frozen=True, slots=True)
class ConversationRef:
    """What a channel session remembers of its open conversation between messages."""

    id: ConversationId
    state: ConversationState
    agent_id: AgentId | None
    channel: ChannelName | None = None  # where the conversation started, when the caller knows it

    @classmethod
    def of(cls, conversation: Conversation) -> ConversationRef:
        return cls(conversation.id, conversation.state, conversation.agent_id, conversation.channel)


@dataclass(frozen=True, slots=True)
class Received:
    message: Message
    conversation: ConversationRef
    duplicate: bool


class ConversationService:
    """Shared by every channel and the console; holds no per-conversation state in memory."""

    def __init__(self, *, clock: Clock, conversations: MongoConversationStore, messages: MongoMessageStore,
                 contacts: MongoContactStore, directory: MongoDirectory, router: Router, bus: EventBus,
                 attachments: MongoAttachmentStore, default_queue: str, assistant: Assistant | None = None) -> None:
        self._clock = clock
        self._conversations = conversations
        self._messages = messages
        self._contacts = contacts
        self._directory = directory
        self._router = router
        self._bus = bus
        self._attachments = attachments
        self._default_queue = default_queue
        self._assistant = assistant
        self._outbox: OutboundQueue | None = None

    def attach_assistant(self, assistant: Assistant) -> None:
        """Wiring: with an assistant (the bot) new conversations start in ``bot``, not in a queue."""
        self._assistant = assistant

    def attach_outbox(self, outbox: OutboundQueue) -> None:
        """Wiring: staff messages for the outbox's channels are queued there instead of pushed live."""
        self._outbox = outbox

    # -- customers ------------------------------------------------------------------------------
    async def accept_inbound(self, inbound: InboundMessage) -> Received:
        """A customer message from a store-and-forward channel (SMS, e-mail, Telegram): recognise
        the contact by its channel address, store the message (with its files) durably, then let
        the bot answer when it holds the conversation. Idempotent on ``(channel, external_id)``."""
        _require_valid(inbound)
        if inbound.attachments:  # files are stored before the message: skip them for a known repeat
            earlier = await self._messages.find_inbound(inbound.channel, inbound.external_id)
            if earlier is not None:
                return Received(earlier, ConversationRef.of(await self._conversations.get(earlier.conversation_id)),
                                True)
        name = inbound.sender_name or default_contact_name(inbound.channel, inbound.sender)
        contact = await self.contact_for(inbound.channel, inbound.sender, name)
        received = await self.receive(inbound, contact_id=contact["_id"], contact_name=contact["display_name"],
                                      known=None)
        started_on = received.conversation.channel
        if started_on is not None and started_on != inbound.channel and not received.duplicate:
            await self._conversations.mark_multichannel(received.conversation.id)
        payload = inbound.payload
        if payload is None and received.conversation.state is S.BOT and not received.duplicate:
            payload = await self._numbered_choice(received.conversation.id, inbound.text)
        await self.after_customer_message(received, payload)
        return received

    async def _numbered_choice(self, conversation_id: str, text: str) -> str | None:
        """"2" answering the bot's numbered quick replies means the second button's payload."""
        if len(text) > NUMBERED_ANSWER_MAX_CHARS:
            return None
        last = await self._messages.last_from(conversation_id, Author.BOT)
        return chosen_button(text, last.buttons) if last is not None and last.buttons else None

    async def contact_for(self, channel: ChannelName, address: str, display_name: str) -> dict[str, Any]:
        # Normalised (lower-case e-mail, +E.164 phone) so an identity an agent linked matches.
        return await self._contacts.ensure(inbound_key(channel, address), display_name, self._clock.now())

    async def open_conversation(self, contact_id: str) -> Conversation | None:
        contact = await self._contacts.get(contact_id)
        if contact is None:
            return None
        return await self._open_by_id(contact.get("open_conversation_id"))

    async def receive(self, inbound: InboundMessage, *, contact_id: str, contact_name: str,
                      known: ConversationRef | None) -> Received:
        """Store one customer message durably, in the contact's open conversation (made if none).

        ``known`` is the caller's last view of the open conversation (saves a read per message).
        Idempotent on ``(channel, external_id)``: a repeat returns the stored message, ``duplicate``.
        Text that is not valid Unicode is refused (``InvalidText``) before anything is stored.
        """
        _require_valid(inbound)
        if known is None or known.state not in OPEN_STATES:
            earlier = await self._messages.find_inbound(inbound.channel, inbound.external_id)
            if earlier is not None:
                conversation = await self._conversations.get(earlier.conversation_id)
                return Received(earlier, ConversationRef.of(conversation), True)
            known = ConversationRef.of(await self._open_or_start(ContactId(contact_id), contact_name,
                                                                 inbound.channel))
        message_id = MessageId(new_id("m"))
        message = Message(
            id=message_id, conversation_id=known.id, channel=inbound.channel,
            author=Author.CUSTOMER, author_id=contact_id, author_name=contact_name, text=inbound.text,
            sent_at=self._clock.now(), status=DeliveryStatus.SENT, external_id=inbound.external_id,
            address=inbound.sender if inbound.channel != "webchat" else None, meta=inbound.meta,
            attachments=await self._store_files(inbound, known.id, message_id),
        )
        stored = await self._messages.add(message)
        if not stored.duplicate:
            await self._tell(MessageStored(conversation_id=known.id, holder=known.agent_id,
                                           message=message_json(stored.message)))
        return Received(stored.message, known, stored.duplicate)

    async def _store_files(self, inbound: InboundMessage, conversation_id: str,
                           message_id: str) -> tuple[AttachmentRef, ...]:
        return tuple([await self._attachments.put(a, conversation_id=conversation_id, message_id=message_id,
                                                  at=self._clock.now()) for a in inbound.attachments])

    async def _open_or_start(self, contact_id: ContactId, contact_name: str, channel: ChannelName) -> Conversation:
        contact = await self._contacts.get(contact_id)
        if contact is None:
            raise NotFound(f"no contact {contact_id}")
        contact_id = ContactId(contact["_id"])  # the survivor, when ``contact_id`` was merged meanwhile
        current_id = contact.get("open_conversation_id")
        current = await self._open_by_id(current_id)
        if current is not None:
            return current
        # Claim the contact's "open conversation" slot first: of two racing first messages, one
        # creates the conversation and the other joins it.
        conversation_id = ConversationId(new_id("c"))
        if not await self._contacts.claim_open_conversation(contact_id, current_id, conversation_id):
            winner = await self.open_conversation(contact_id)
            if winner is None:
                raise ConcurrentUpdate("the contact's conversation is being created; retry")
            return winner
        conversation = await self._start(conversation_id, contact_id, contact_name, channel)
        if self._assistant is not None:
            return await self.transition(conversation, S.BOT, EventType.BOT_STARTED, actor="system")
        return await self._queue_new(conversation)

    async def _open_by_id(self, conversation_id: str | None) -> Conversation | None:
        if not conversation_id:
            return None
        try:
            conversation = await self._conversations.get(conversation_id)
        except NotFound:
            return None
        return conversation if conversation.state in OPEN_STATES else None

    async def _start(self, conversation_id: ConversationId, contact_id: ContactId, contact_name: str,
                     channel: ChannelName) -> Conversation:
        now = self._clock.now()
        conversation = Conversation(
            id=conversation_id, contact_id=contact_id, channel=channel, state=S.NEW, version=0,
            queue=None, priority=0, skills=frozenset(), agent_id=None, created_at=now, updated_at=now,
        )
        return await self._conversations.create(conversation, contact_name=contact_name, actor="customer")

    async def _queue_new(self, conversation: Conversation) -> Conversation:
        return await self.queue_for_humans(conversation, self._default_queue, event_type=EventType.QUEUED)

    async def queue_for_humans(self, conversation: Conversation, queue_id: str, *, event_type: EventType,
                               handover: Mapping[str, Any] | None = None,
                               detail: Mapping[str, str] | None = None) -> Conversation:
        """Move a conversation (new or with the bot) into a queue; routing takes it from there."""
        try:
            queue = await self._directory.queue(queue_id)
            changes: dict[str, Any] = {"queue": queue.id, "skills": queue.skills, "priority": queue.priority}
        except NotFound:
            changes = {"queue": QueueId(queue_id), "skills": frozenset(), "priority": 0}
        changes["queued_at"] = self._clock.now()
        if handover is not None:
            changes["handover"] = {**handover, "queue": changes["queue"], "priority": changes["priority"]}
        queued = await self.transition(conversation, S.QUEUED, event_type, actor="system", changes=changes,
                                       detail=detail)
        try:
            async with asyncio.timeout(ENQUEUE_BUDGET_S):
                await self._router.enqueue(queued)
        except Exception as err:  # Redis away or slow: MongoDB says queued, and routing's sweep enqueues it
            logger.warning("routing.enqueue.deferred id=%s error=%s", queued.id, type(err).__name__)
        return queued

    # -- the bot's side -------------------------------------------------------------------------
    async def after_customer_message(self, received: Received, payload: str | None = None) -> None:
        """Give a new customer message to the bot when the bot holds the conversation."""
        if self._assistant is None or received.duplicate or received.conversation.state is not S.BOT:
            return
        await self._assistant.handle(received.conversation.id, received.message, payload)

    async def bot_reply(self, conversation_id: str, text: str, buttons: list[dict[str, str]]) -> Message | None:
        """Store and send one bot message, unless a human took the conversation meanwhile."""
        require_valid_text("bot reply", {"text": text, "buttons": buttons})
        conversation = await self._conversations.get(conversation_id)
        if conversation.state is not S.BOT:
            return None  # the bot never speaks in a conversation held by a human
        channel, address = await self._route(conversation)
        message = await self._store_staff(Message(
            id=MessageId(new_id("m")), conversation_id=conversation.id, channel=channel,
            author=Author.BOT, author_id="bot", author_name=BOT_NAME, text=text, sent_at=self._clock.now(),
            status=DeliveryStatus.SENT, buttons=tuple(buttons), address=address,
        ))
        await self._tell(MessageStored(conversation_id=conversation.id, holder=None, message=message_json(message)))
        return message

    async def conversation(self, conversation_id: str) -> Conversation:
        return await self._conversations.get(conversation_id)

    async def transcript(self, conversation_id: str) -> list[Message]:
        return await self._messages.timeline(conversation_id, include_private=False)

    async def bot_memory(self, conversation_id: str) -> dict[str, Any]:
        return await self._conversations.bot_memory(conversation_id)

    async def remember_bot_turn(self, conversation_id: str, intent: str | None, confidence: float,
                                fallbacks: int) -> None:
        await self._conversations.remember_bot_turn(conversation_id, intent, confidence, fallbacks)

    # -- agents ---------------------------------------------------------------------------------
    async def view(self, agent: Agent, conversation_id: str) -> dict[str, Any]:
        """The conversation's document if ``agent`` may see it (``hub.domain.visibility``); Forbidden
        otherwise, NotFound for an unknown id."""
        doc, _ = await self.look(agent, conversation_id)
        return doc

    async def look(self, agent: Agent, conversation_id: str) -> tuple[dict[str, Any], Sight]:
        """Like ``view``, with how much ``agent`` may see: whether private notes are hers to read."""
        doc = await self._conversations.get_doc(conversation_id)
        served = False
        if agent.role is Role.AGENT and S(doc["state"]) in FINISHED and doc.get("agent_id") != agent.id:
            served = any(e["type"] == "assigned" and e.get("agent_id") == agent.id
                         for e in await self._conversations.events_of(doc["_id"]))
        sight = conversation_sight(agent, ConversationFacts.of(doc, served_by_viewer=served))
        if not sight.visible:
            raise Forbidden("this conversation is not yours to see")
        return doc, sight

    @staticmethod
    def may_view(agent: Agent, doc: Mapping[str, Any]) -> bool:
        """The visibility rule without reading anything (the live fan-out works from summaries):
        a finished conversation counts as served only by the agent it names."""
        return conversation_sight(agent, ConversationFacts.of(doc)).visible

    async def _held(self, agent: Agent, conversation_id: str) -> Conversation:
        conversation = await self._conversations.get(conversation_id)
        if conversation.agent_id != agent.id and agent.role not in SUPERVISING:
            raise Forbidden("only the agent holding the conversation can do this")
        return conversation

    async def reply(self, agent: Agent, conversation_id: str, text: str, *, private: bool) -> Message:
        text = text.strip()
        if not text:
            raise InvalidInput("the message is empty")
        require_valid_text("text", text)
        conversation = await self._held(agent, conversation_id)
        if conversation.state not in HELD_BY_AGENT and not private:
            raise InvalidInput(f"cannot reply while the conversation is {conversation.state}")
        channel, address = (conversation.channel, None) if private else await self._route(conversation)
        message = await self._store_staff(Message(
            id=MessageId(new_id("m")), conversation_id=conversation.id, channel=channel,
            author=Author.AGENT, author_id=agent.id, author_name=agent.display_name, text=text,
            sent_at=self._clock.now(), status=DeliveryStatus.SENT, private=private, address=address,
        ))
        await self._tell(MessageStored(conversation_id=conversation.id, holder=conversation.agent_id,
                                       message=message_json(message)))
        return message

    async def receipts(self, conversation_id: str, message_ids: list[str], status: DeliveryStatus,
                       author: Author) -> None:
        """Delivered/read receipts for messages of ``author``; statuses only move forward.

        The customer's receipts (``Author.AGENT``) cover everything our side wrote, the bot's too."""
        authors = STAFF if author is Author.AGENT else frozenset({author})
        changed = await self._messages.advance_status(message_ids[:500], status, conversation_id, authors)
        for message_id in changed:
            await self._tell(StatusChanged(conversation_id=ConversationId(conversation_id),
                                           message_id=MessageId(message_id), status=status, author=author))

    async def delivered_to_agents(self, delivered: list[tuple[str, str]]) -> None:
        """Customer messages pushed to their agent's console, as ``(conversation_id, message_id)``.

        One write for the batch; the statuses go out to the widgets, which only ever move a
        message's status forward, so a late "delivered" after "read" changes nothing."""
        if not delivered:
            return
        await self._messages.advance_many([mid for _, mid in delivered], DeliveryStatus.DELIVERED)
        for conversation_id, message_id in delivered:
            await self._tell(StatusChanged(conversation_id=ConversationId(conversation_id),
                                           message_id=MessageId(message_id), status=DeliveryStatus.DELIVERED,
                                           author=Author.CUSTOMER))

    async def read_by_agent(self, agent: Agent, conversation_id: str) -> None:
        await self._held(agent, conversation_id)
        unread = await self._messages.unread_from(conversation_id, Author.CUSTOMER)
        await self.receipts(conversation_id, unread, DeliveryStatus.READ, Author.CUSTOMER)
        await self._conversations.clear_unread(conversation_id)

    async def typing(self, conversation_id: str, who: Author, active: bool) -> None:
        await self._tell(TypingChanged(conversation_id=ConversationId(conversation_id), who=who, active=active))

    async def transfer(self, agent: Agent, conversation_id: str, queue_id: str) -> Conversation:
        conversation = await self._held(agent, conversation_id)
        queue = await self._directory.queue(queue_id)
        moved = await self.transition(
            conversation, S.QUEUED, EventType.TRANSFERRED, actor=agent.id,
            changes={"queue": queue.id, "skills": queue.skills, "priority": queue.priority, "agent_id": None,
                     "queued_at": self._clock.now()},
            detail={"from_queue": conversation.queue or "", "to_queue": queue.id},
        )
        await self._router.release(conversation)
        await self._router.enqueue(moved)
        return moved

    async def wrap_up(self, agent: Agent, conversation_id: str, code: str) -> Conversation:
        conversation = await self._held(agent, conversation_id)
        if code not in {c.code for c in await self._directory.wrap_up_codes()}:
            raise InvalidInput(f"unknown wrap-up code {code!r}")
        return await self.transition(conversation, S.WRAP_UP, EventType.WRAPPED_UP, actor=agent.id,
                                     changes={"wrap_up_code": code})

    async def resolve(self, agent: Agent, conversation_id: str) -> Conversation:
        conversation = await self._held(agent, conversation_id)
        resolved = await self.transition(conversation, S.RESOLVED, EventType.RESOLVED, actor=agent.id)
        if conversation.state is S.QUEUED:  # a supervisor closing a waiting conversation
            await self._router.withdraw(conversation)
        else:
            await self._router.release(conversation)
        return resolved

    # -- shared ---------------------------------------------------------------------------------
    async def _route(self, conversation: Conversation) -> tuple[ChannelName, str | None]:
        """Where a reply goes: the channel and address the customer last wrote from. A web chat
        the customer never left needs no lookup (the widget is the only way back)."""
        if self._outbox is None or (conversation.channel in PUSHED_LIVE and not conversation.multichannel):
            return conversation.channel, None
        last = await self._messages.last_inbound(conversation.id)
        if last is None or last.address is None:
            return conversation.channel, None
        return last.channel, last.address

    async def _store_staff(self, message: Message) -> Message:
        """Store a staff message; for store-and-forward channels together with its outbox entry."""
        if message.private or self._outbox is None or message.channel in PUSHED_LIVE:
            await self._messages.add(message)
            return message
        queued = replace(message, status=DeliveryStatus.QUEUED)
        entry = self._outbox.claim_new()
        await self._messages.add_outbound(queued, entry)
        self._outbox.dispatch(queued, entry)
        return queued

    async def transition(self, conversation: Conversation, target: ConversationState, event_type: EventType, *,
                         actor: str, changes: Mapping[str, Any] | None = None,
                         detail: Mapping[str, str] | None = None) -> Conversation:
        """Store the transition (and its event), then tell every process. See the store's contract:
        raises ``IllegalTransition`` for a move that is no edge or an ``event_type`` not bound to it."""
        doc = await self._conversations.transition(
            conversation, target, event_type=event_type, at=self._clock.now(), actor=actor, changes=changes,
            detail=detail)
        await self._tell(ConversationChanged(event=event_type, version=int(doc["version"]), summary=summary_json(doc),
                                             previous_agent=conversation.agent_id))
        logger.info("conversation.%s id=%s state=%s->%s", event_type, conversation.id, conversation.state, target)
        return conversation_from_doc(doc)

    async def _tell(self, fact: Fact) -> None:
        """Fan out a fact that is already stored. The bus is at-most-once (clients resync from
        MongoDB on reconnect), so a Redis hiccup here must not fail what was durably done."""
        try:
            await self._bus.publish(fact)
        except Exception:
            logger.warning("bus.publish.failed kind=%s", fact.KIND, exc_info=True)


def _require_valid(inbound: InboundMessage) -> None:
    """Every text of a customer message is valid Unicode, or nothing of it is stored."""
    require_valid_text("message", {"text": inbound.text, "sender": inbound.sender, "name": inbound.sender_name,
                                   "meta": dict(inbound.meta), "payload": inbound.payload,
                                   "files": [a.filename for a in inbound.attachments]})


def default_contact_name(channel: ChannelName, address: str) -> str:
    """A short, recognisable name for a new contact ("SMS customer 8000"); agents see the full
    address among the contact's identities."""
    tail = address[-4:] if channel == "sms" else address.split("@", 1)[0][:12]
    labels = {"sms": "SMS", "email": "E-mail", "telegram": "Telegram", "voice": "Caller"}
    return f"{labels.get(channel, channel)} customer {tail}".strip()
