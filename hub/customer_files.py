"""The files of a customer's own conversations, for the customer's channel to hand out (the web chat
widget's downloads, ADR 0046). A customer is the contact owning her channel identity; she gets the
files of that contact's conversations, nobody else's (None for an unknown id and for another's)."""

from __future__ import annotations

from hub.domain.contacts import inbound_key
from hub.domain.ids import ChannelName
from hub.domain.model import StoredAttachment
from hub.errors import NotFound
from hub.storage.attachments import MongoAttachmentStore
from hub.storage.contacts import MongoContactStore
from hub.storage.conversations import MongoConversationStore


class CustomerFiles:
    """Implements ``hub.ports.CustomerFileAccess``."""

    def __init__(self, *, contacts: MongoContactStore, conversations: MongoConversationStore,
                 attachments: MongoAttachmentStore) -> None:
        self._contacts = contacts
        self._conversations = conversations
        self._attachments = attachments

    async def of_customer(self, channel: ChannelName, address: str, attachment_id: str) -> StoredAttachment | None:
        stored = await self._attachments.file(attachment_id)
        if stored is None:
            return None
        contact = await self._contacts.owner_of(inbound_key(channel, address))
        if contact is None:
            return None
        try:
            conversation = await self._conversations.get(stored.conversation_id)
        except NotFound:
            return None
        return stored if conversation.contact_id == contact["_id"] else None
