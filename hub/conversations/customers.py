"""Customer messages from every channel: recognise the contact, store the message in the contact's
open conversation (started if none), then let the bot answer when it holds the conversation."""

from __future__ import annotations

from typing import Any

from hub.conversations.core import ConversationCore
from hub.conversations.customer_receipts import CustomerReceipts
from hub.conversations.known_contacts import KnownContacts
from hub.conversations.transitions import Transitions
from hub.domain.contacts import default_contact_name, inbound_key
from hub.domain.events import EventType, MessageStored
from hub.domain.ids import Author, ChannelName, ContactId, ConversationId, DeliveryStatus, MessageId, new_id
from hub.domain.model import AttachmentRef, Conversation, InboundMessage, Message
from hub.domain.outbound import chosen_button
from hub.domain.received import ConversationRef, Received
from hub.domain.states import OPEN_STATES, ConversationState
from hub.domain.text import require_valid_text
from hub.errors import ConcurrentUpdate, NotFound
from hub.ports import Assistant
from hub.storage.attachments import MongoAttachmentStore
from hub.storage.contacts import MongoContactStore
from hub.wire import message_json

S = ConversationState
NUMBERED_ANSWER_MAX_CHARS = 60  # longer texts are never a quick-reply choice: skip the lookup


class CustomerInbox:
    """Implements ``hub.ports.Inbox`` and ``hub.ports.SessionInbox``."""

    def __init__(self, core: ConversationCore, transitions: Transitions, *, contacts: MongoContactStore,
                 attachments: MongoAttachmentStore, default_queue: str, assistant: Assistant | None = None,
                 known: KnownContacts | None = None, receipts: CustomerReceipts | None = None) -> None:
        self._core, self._transitions, self._contacts, self._attachments = core, transitions, contacts, attachments
        self._default_queue, self._assistant, self._known, self._receipts = default_queue, assistant, known, receipts

    @property
    def known_contacts(self) -> KnownContacts | None:
        return self._known

    def attach_assistant(self, assistant: Assistant) -> None:
        """Wiring: with an assistant (the bot) new conversations start in ``bot``, not in a queue."""
        self._assistant = assistant

    async def accept_inbound(self, inbound: InboundMessage) -> Received:
        """A customer message from a store-and-forward channel (SMS, e-mail, Telegram): recognise
        the contact by its channel address, store the message (with its files) durably, then let
        the bot answer when it holds the conversation. Idempotent on ``(channel, external_id)``."""
        _require_valid(inbound)
        messages, conversations = self._core.messages, self._core.conversations
        if inbound.attachments:  # files are stored before the message: skip them for a known repeat
            earlier = await messages.find_inbound(inbound.channel, inbound.external_id)
            if earlier is not None:
                return Received(earlier, ConversationRef.of(await conversations.get(earlier.conversation_id)), True)
        name = inbound.sender_name or default_contact_name(inbound.channel, inbound.sender)
        contact = await self.contact_for(inbound.channel, inbound.sender, name)
        received = await self.receive(inbound, contact_id=contact["_id"], contact_name=contact["display_name"],
                                      known=await self._known_open(contact.get("open_conversation_id")))
        if self._known is not None and not received.duplicate and received.conversation.state in OPEN_STATES:
            self._known.opened(inbound_key(inbound.channel, inbound.sender), contact["_id"], received.conversation.id)
        started_on = received.conversation.channel
        if started_on is not None and started_on != inbound.channel and not received.duplicate:
            await conversations.mark_multichannel(received.conversation.id)
            self._core.current.forget(received.conversation.id)
        payload = inbound.payload
        if payload is None and received.conversation.state is S.BOT and not received.duplicate:
            payload = await self._numbered_choice(received.conversation.id, inbound.text)
        await self.after_customer_message(received, payload)
        return received

    async def _known_open(self, conversation_id: str | None) -> ConversationRef | None:
        """The contact's open conversation as this process knows it (``CurrentConversations``: no
        read while it is known), else None and ``receive`` looks it up. A repeat of a message stored
        before is then found by the messages' unique index instead of a read per message."""
        if not conversation_id:
            return None
        try:
            conversation = await self._core.current.get(conversation_id)
        except NotFound:
            return None
        return ConversationRef.of(conversation) if conversation.state in OPEN_STATES else None

    async def _numbered_choice(self, conversation_id: str, text: str) -> str | None:
        """"2" answering the bot's numbered quick replies means the second button's payload."""
        if len(text) > NUMBERED_ANSWER_MAX_CHARS:
            return None
        last = await self._core.messages.last_from(conversation_id, Author.BOT)
        return chosen_button(text, last.buttons) if last is not None and last.buttons else None

    async def contact_for(self, channel: ChannelName, address: str, display_name: str) -> dict[str, Any]:
        # Normalised (lower-case e-mail, +E.164 phone) so an identity an agent linked matches; known, no read.
        contacts = self._known if self._known is not None else self._contacts
        return await contacts.ensure(inbound_key(channel, address), display_name, self._core.clock.now())

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
        if known is not None and self._core.current.left_open(known.id):
            known = None  # the caller's view is older than this process's: the contact's record decides
        if known is None or known.state not in OPEN_STATES:
            earlier = await self._core.messages.find_inbound(inbound.channel, inbound.external_id)
            if earlier is not None:
                conversation = await self._core.conversations.get(earlier.conversation_id)
                return Received(earlier, ConversationRef.of(conversation), True)
            known = ConversationRef.of(await self._open_or_start(ContactId(contact_id), contact_name,
                                                                 inbound.channel))
        message_id = MessageId(new_id("m"))
        message = Message(
            id=message_id, conversation_id=known.id, channel=inbound.channel,
            author=Author.CUSTOMER, author_id=contact_id, author_name=contact_name, text=inbound.text,
            sent_at=self._core.clock.now(), status=DeliveryStatus.SENT, external_id=inbound.external_id,
            address=None if inbound.channel in self._core.live else inbound.sender, meta=inbound.meta,
            attachments=await self._store_files(inbound, known.id, message_id),
        )
        stored = await self._core.messages.add(message)
        if not stored.duplicate:
            self._core.stored(stored.message)  # before its fact: this process's own is no news
            await self._core.tell(MessageStored(conversation_id=known.id, holder=known.agent_id,
                                                message=message_json(stored.message, live=self._core.live)))
        return Received(stored.message, known, stored.duplicate)

    async def after_customer_message(self, received: Received, payload: str | None = None) -> None:
        """Give a new customer message to the bot when the bot holds the conversation."""
        if self._assistant is None or received.duplicate or received.conversation.state is not S.BOT:
            return
        await self._assistant.handle(received.conversation.id, received.message, payload)

    async def typing(self, conversation_id: str, who: Author, active: bool) -> None:
        await self._core.typing(conversation_id, who, active)

    async def receipts(self, conversation_id: str, message_ids: list[str], status: DeliveryStatus,
                       author: Author) -> None:
        await (self._receipts or self._core).receipts(conversation_id, message_ids, status, author)

    async def _store_files(self, inbound: InboundMessage, conversation_id: str,
                           message_id: str) -> tuple[AttachmentRef, ...]:
        return tuple([await self._attachments.put(a, conversation_id=conversation_id, message_id=message_id,
                                                  at=self._core.clock.now()) for a in inbound.attachments])

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
            return await self._transitions.transition(conversation, S.BOT, EventType.BOT_STARTED, actor="system")
        return await self._transitions.queue_for_humans(conversation, self._default_queue,
                                                        event_type=EventType.QUEUED)

    async def _open_by_id(self, conversation_id: str | None) -> Conversation | None:
        if not conversation_id:
            return None
        try:
            conversation = await self._core.conversations.get(conversation_id)
        except NotFound:
            return None
        return conversation if conversation.state in OPEN_STATES else None

    async def _start(self, conversation_id: ConversationId, contact_id: ContactId, contact_name: str,
                     channel: ChannelName) -> Conversation:
        now = self._core.clock.now()
        conversation = Conversation(
            id=conversation_id, contact_id=contact_id, channel=channel, state=S.NEW, version=0,
            queue=None, priority=0, skills=frozenset(), agent_id=None, created_at=now, updated_at=now,
        )
        return await self._core.conversations.create(conversation, contact_name=contact_name, actor="customer")


def _require_valid(inbound: InboundMessage) -> None:
    """Every text of a customer message is valid Unicode, or nothing of it is stored."""
    require_valid_text("message", {"text": inbound.text, "sender": inbound.sender, "name": inbound.sender_name,
                                   "meta": dict(inbound.meta), "payload": inbound.payload,
                                   "files": [a.filename for a in inbound.attachments]})
