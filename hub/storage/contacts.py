"""Contacts: one customer, many channel identities (``webchat:v_…``, ``sms:+86…``).

A merged contact stays as a tombstone (``merged_into``) so that old references (a widget's
session, a conversation read before the merge) resolve to the survivor. Its identities move to
the survivor; while they move they are findable through the tombstone's ``merged_identities``,
so a customer writing during a merge never gets a fresh contact. The unique index on
``identities`` forbids two contacts with an empty list, so a tombstone keeps one placeholder
identity of its own (``merged:<id>``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from hub.domain.contacts import TOMBSTONE_PREFIX
from hub.domain.ids import ContactId, new_id
from hub.storage.database import Db

MAX_HOPS = 8  # merges chain (a into b, later b into c); a longer chain is a bug, not data


class MongoContactStore:
    def __init__(self, db: Db) -> None:
        self._contacts = db["contacts"]

    async def ensure(self, identity: str, display_name: str, at: datetime) -> dict[str, Any]:
        """The contact owning ``identity``, created on first sight. Idempotent under concurrency."""
        found = await self.owner_of(identity)
        if found is not None:
            return found
        doc = {"_id": new_id("k"), "display_name": display_name, "identities": [identity],
               "created_at": at, "open_conversation_id": None}
        try:
            await self._contacts.insert_one(doc)
        except DuplicateKeyError:
            again = await self.owner_of(identity)
            assert again is not None  # the unique index said it exists
            return again
        return doc

    async def owner_of(self, identity: str) -> dict[str, Any] | None:
        """The (surviving) contact that owns ``identity``, also while a merge moves it."""
        found = await self._contacts.find_one({"identities": identity})
        if found is None:
            found = await self._contacts.find_one({"merged_identities": identity})
        return await self._follow(found)

    async def get(self, contact_id: str) -> dict[str, Any] | None:
        """The contact, or the one it was merged into (old references resolve)."""
        return await self._follow(await self.get_raw(contact_id))

    async def get_raw(self, contact_id: str) -> dict[str, Any] | None:
        """The stored document itself, a tombstone included."""
        return await self._contacts.find_one({"_id": contact_id})

    async def _follow(self, doc: dict[str, Any] | None) -> dict[str, Any] | None:
        for _ in range(MAX_HOPS):
            if doc is None or not doc.get("merged_into"):
                return doc
            survivor = await self._contacts.find_one({"_id": doc["merged_into"]})
            if survivor is None:
                return doc
            doc = survivor
        return doc

    async def claim_open_conversation(self, contact_id: ContactId, expected: str | None, new: str) -> bool:
        """Compare-and-set of the contact's open conversation: one winner when two messages race.
        A tombstone never claims: the caller re-reads and lands on the survivor."""
        result = await self._contacts.update_one(
            {"_id": contact_id, "open_conversation_id": expected, "merged_into": None},
            {"$set": {"open_conversation_id": new}})
        return result.modified_count == 1

    async def rename(self, contact_id: str, display_name: str) -> None:
        await self._contacts.update_one({"_id": contact_id}, {"$set": {"display_name": display_name}})

    async def set_attributes(self, contact_id: str, to_set: dict[str, str], to_clear: list[str]) -> None:
        """Customer attributes (``hub.domain.contact_details``), key by key: two editors of
        different keys never undo each other."""
        update: dict[str, Any] = {}
        if to_set:
            update["$set"] = {f"attributes.{k}": v for k, v in to_set.items()}
        if to_clear:
            update["$unset"] = {f"attributes.{k}": "" for k in to_clear}
        if update:
            await self._contacts.update_one({"_id": contact_id}, update)

    async def add_identity(self, contact_id: str, identity: str) -> bool:
        """Link ``identity``; False when another contact owns it (the unique index decides)."""
        try:
            await self._contacts.update_one({"_id": contact_id, "merged_into": None},
                                            {"$addToSet": {"identities": identity}})
        except DuplicateKeyError:
            return False
        return True

    # -- merging ------------------------------------------------------------------------------
    async def tombstone(self, other: str, survivor: str, *, expected_open: str | None, at: datetime,
                        actor: str, token: str) -> bool:
        """The merge's commit point, a compare-and-set: ``other`` becomes a tombstone pointing to
        ``survivor`` unless it was merged meanwhile or got another open conversation."""
        result = await self._contacts.update_one(
            {"_id": other, "merged_into": None, "open_conversation_id": expected_open},
            {"$set": {"merged_into": survivor, "merged_at": at, "merged_by": actor, "merge_token": token}})
        return result.modified_count == 1

    async def undo_tombstone(self, other: str, token: str) -> None:
        """Take back our own tombstone (the survivor turned out to be merged concurrently)."""
        await self._contacts.update_one(
            {"_id": other, "merge_token": token},
            {"$unset": {"merged_into": "", "merged_at": "", "merged_by": "", "merge_token": ""}})

    async def move_identities(self, other: dict[str, Any], survivor: str) -> list[str]:
        """Move a tombstone's identities to its survivor; idempotent (a resumed merge repeats it)."""
        keys = [k for k in other.get("identities", []) if not k.startswith(TOMBSTONE_PREFIX)]
        if keys:
            await self._contacts.update_one(
                {"_id": other["_id"]},
                {"$set": {"identities": [f"{TOMBSTONE_PREFIX}{other['_id']}"]},
                 "$addToSet": {"merged_identities": {"$each": keys}}})
        moving = sorted(set(keys) | set(other.get("merged_identities", [])))
        if moving:
            await self._contacts.update_one({"_id": survivor}, {"$addToSet": {"identities": {"$each": moving}}})
        return moving

    async def set_open_conversation(self, contact_id: str, expected: str | None, new: str) -> bool:
        result = await self._contacts.update_one({"_id": contact_id, "open_conversation_id": expected},
                                                 {"$set": {"open_conversation_id": new}})
        return result.modified_count == 1

    async def merged_from(self, survivor: str) -> list[str]:
        """Tombstones pointing at ``survivor`` (directly)."""
        return [d["_id"] async for d in self._contacts.find({"merged_into": survivor}, {"_id": 1})]

    # -- search -------------------------------------------------------------------------------
    async def search(self, *, text: str, identities: list[str], within: Iterable[str] | None,
                     limit: int) -> list[dict[str, Any]]:
        """Live contacts whose name contains ``text`` (any case) or who own one of ``identities``
        exactly; only among ``within`` when given (an agent's scope)."""
        anyof: list[dict[str, Any]] = [{"display_name": {"$regex": re.escape(text), "$options": "i"}}]
        if identities:
            anyof.append({"identities": {"$in": identities}})
        query: dict[str, Any] = {"merged_into": None, "$or": anyof}
        if within is not None:
            query["_id"] = {"$in": list(within)}
        cursor = self._contacts.find(query).sort("display_name", 1).limit(limit)
        return await cursor.to_list(None)
