"""Attachments (e-mail files, Telegram photos and documents) as MongoDB documents.

One document per file, at most ``MAX_BYTES`` (MongoDB's document limit is 16 MB); channels
refuse larger files before they get here, so nothing is stored half.
"""

from __future__ import annotations

from datetime import datetime

from bson import Binary

from hub.domain.ids import new_id
from hub.domain.model import Attachment, AttachmentRef, StoredAttachment
from hub.errors import InvalidInput
from hub.storage.database import Db

MAX_BYTES = 10 * 1024 * 1024


class MongoAttachmentStore:
    """Implements ``hub.ports.AttachmentFiles`` (and stores what channels receive)."""

    def __init__(self, db: Db) -> None:
        self._attachments = db["attachments"]

    async def put(self, attachment: Attachment, *, conversation_id: str, message_id: str,
                  at: datetime, attachment_id: str | None = None) -> AttachmentRef:
        if len(attachment.data) > MAX_BYTES:
            raise InvalidInput(f"attachment larger than {MAX_BYTES // (1024 * 1024)} MB")
        ref = AttachmentRef(id=attachment_id or new_id("a"), filename=attachment.filename or "attachment",
                            content_type=attachment.content_type or "application/octet-stream",
                            size=len(attachment.data))
        await self._attachments.insert_one({
            "_id": ref.id, "conversation_id": conversation_id, "message_id": message_id, "filename": ref.filename,
            "content_type": ref.content_type, "size": ref.size, "data": Binary(attachment.data), "stored_at": at})
        return ref

    async def file(self, attachment_id: str) -> StoredAttachment | None:
        doc = await self._attachments.find_one({"_id": attachment_id})
        if doc is None:
            return None
        return StoredAttachment(id=doc["_id"], conversation_id=doc["conversation_id"],
                                filename=str(doc.get("filename") or "attachment"),
                                content_type=str(doc.get("content_type", "")), data=bytes(doc["data"]))
