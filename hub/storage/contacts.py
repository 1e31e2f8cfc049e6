"""Contacts: one customer, many channel identities (``webchat:v_…``, ``sms:+86…``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from hub.domain.ids import ContactId, new_id
from hub.storage.database import Db


class MongoContactStore:
    def __init__(self, db: Db) -> None:
        self._contacts = db["contacts"]

    async def ensure(self, identity: str, display_name: str, at: datetime) -> dict[str, Any]:
        """The contact owning ``identity``, created on first sight. Idempotent under concurrency."""
        found = await self._contacts.find_one({"identities": identity})
        if found is not None:
            return found
        doc = {"_id": new_id("k"), "display_name": display_name, "identities": [identity],
               "created_at": at, "open_conversation_id": None}
        try:
            await self._contacts.insert_one(doc)
        except DuplicateKeyError:
            again = await self._contacts.find_one({"identities": identity})
            assert again is not None  # the unique index said it exists
            return again
        return doc

    async def get(self, contact_id: str) -> dict[str, Any] | None:
        return await self._contacts.find_one({"_id": contact_id})

    async def claim_open_conversation(self, contact_id: ContactId, expected: str | None, new: str) -> bool:
        """Compare-and-set of the contact's open conversation: one winner when two messages race."""
        result = await self._contacts.update_one(
            {"_id": contact_id, "open_conversation_id": expected}, {"$set": {"open_conversation_id": new}}
        )
        return result.modified_count == 1

    async def rename(self, contact_id: str, display_name: str) -> None:
        await self._contacts.update_one({"_id": contact_id}, {"$set": {"display_name": display_name}})
