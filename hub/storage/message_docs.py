"""A message's document in ``messages`` and back, and how the conversation's receipt watermarks
show on the messages read (ADR 0032, 0058). No I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from hub.domain.ids import Author, ConversationId, DeliveryStatus, ExternalId, MessageId
from hub.domain.model import AttachmentRef, Message


def inbound_key(channel: str, external_id: str) -> str:
    """What makes a customer message unique: the provider's id on its channel."""
    return f"{channel}:{external_id}"


def message_to_doc(message: Message) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "_id": message.id, "conversation_id": message.conversation_id, "channel": message.channel,
        "author": message.author.value, "author_id": message.author_id, "author_name": message.author_name,
        "text": message.text, "sent_at": message.sent_at, "status": message.status.value,
        "private": message.private, "inbound": message.author is Author.CUSTOMER,
    }
    if message.external_id is not None:
        doc["external_id"] = message.external_id
        if message.author is Author.CUSTOMER:
            doc["inbound_key"] = inbound_key(message.channel, message.external_id)
    if message.buttons:
        doc["buttons"] = [dict(b) for b in message.buttons]
    if message.address is not None:
        doc["address"] = message.address
    if message.meta:
        doc["meta"] = dict(message.meta)
    if message.attachments:
        doc["attachments"] = [{"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size}
                              for a in message.attachments]
    return doc


def message_from_doc(doc: Mapping[str, Any]) -> Message:
    return Message(
        id=MessageId(doc["_id"]), conversation_id=ConversationId(doc["conversation_id"]),
        channel=doc["channel"], author=Author(doc["author"]), author_id=doc.get("author_id"),
        author_name=doc.get("author_name", ""), text=doc["text"], sent_at=doc["sent_at"],
        status=DeliveryStatus(doc["status"]), private=bool(doc.get("private")),
        external_id=ExternalId(doc["external_id"]) if doc.get("external_id") else None,
        buttons=tuple(doc.get("buttons", ())), address=doc.get("address"), meta=doc.get("meta") or {},
        attachments=tuple(AttachmentRef(id=a["id"], filename=a["filename"], content_type=a["content_type"],
                                        size=a["size"]) for a in doc.get("attachments", ())),
    )


def with_watermark(message: Message, delivered_until: datetime | None,
                   read_until: datetime | None = None) -> Message:
    """A customer message is ``read`` when its conversation's read watermark has passed it, else
    ``delivered`` when its delivered watermark has (``hub.storage.summaries``), whatever its document
    says below that: receipts are fields of the conversation, not writes per message."""
    if message.author is not Author.CUSTOMER or message.status is DeliveryStatus.READ:
        return message
    if read_until is not None and _naive(message.sent_at) <= _naive(read_until):
        return replace(message, status=DeliveryStatus.READ)
    if (delivered_until is None or message.status is not DeliveryStatus.SENT
            or _naive(message.sent_at) > _naive(delivered_until)):
        return message
    return replace(message, status=DeliveryStatus.DELIVERED)


def _naive(at: datetime) -> datetime:
    """MongoDB hands datetimes back naive (UTC) unless the client is tz-aware: compare like with like."""
    return at.replace(tzinfo=None) if at.tzinfo is not None else at
