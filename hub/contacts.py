"""One contact across channels: profile, cross-channel timeline, linking identities, rename, merge.

Decisions live in ``hub.domain.contacts`` (normalisation, merge plan) and ``hub.domain.visibility``
(who sees which conversations, contacts and private notes, who may change a contact); this
module loads what they need, calls them and commits the result with compare-and-set writes.
An agent sees a contact with any conversation the visibility rule shows her, and its profile
and timeline hold only those conversations; trainers have no contacts.
"""

from __future__ import annotations

import logging
from typing import Any

from hub.clock import Clock
from hub.contact_values import ContactProfile, MergeResult, TimelinePage
from hub.domain.contact_details import clean_attributes, readable_all
from hub.domain.contacts import (
    ContactFacts,
    IdentityTaken,
    MergeAction,
    MergePlan,
    clean_name,
    decode_cursor,
    encode_cursor,
    group_by_channel,
    normalise,
    plan_merge,
)
from hub.domain.events import ContactChanged
from hub.domain.ids import ContactId, ConversationId, new_id
from hub.domain.model import Agent
from hub.domain.states import OPEN_STATES, ConversationState
from hub.domain.visibility import (
    FINISHED,
    SEES_EVERYTHING,
    ContactSight,
    ConversationFacts,
    contact_sight,
    conversation_sight,
    facts_of,
    may_merge_contacts,
    sees_contacts,
)
from hub.errors import ConcurrentUpdate, Forbidden, InvalidInput, NotFound
from hub.ports import EventBus
from hub.storage.audit import MongoAuditLog
from hub.storage.contact_history import MongoContactHistory
from hub.storage.contacts import MongoContactStore
from hub.storage.database import Db

logger = logging.getLogger(__name__)

MAX_PAGE = 200
MAX_SEARCH = 20
MERGE_ATTEMPTS = 3


class ContactService:
    """Shared by the console API; holds no state between calls. Every method checks ``viewer``'s
    access first and raises NotFound, Forbidden, InvalidInput, IdentityTaken or MergeRefused."""

    def __init__(self, *, contacts: MongoContactStore, history: MongoContactHistory, audit: MongoAuditLog,
                 clock: Clock, bus: EventBus | None = None) -> None:
        self._bus = bus
        self._contacts = contacts
        self._history = history
        self._audit = audit
        self._clock = clock

    @classmethod
    def over(cls, db: Db, clock: Clock, bus: EventBus | None = None) -> ContactService:
        """The service over the hub's database (the composition root's one-liner); ``bus``: where
        ``ContactChanged`` goes, so consoles showing the contact read it again."""
        return cls(contacts=MongoContactStore(db), history=MongoContactHistory(db), audit=MongoAuditLog(db),
                   clock=clock, bus=bus)

    # -- reading --------------------------------------------------------------------------------
    async def profile(self, viewer: Agent, contact_id: str) -> ContactProfile:
        doc, ids, sight = await self._visible(viewer, contact_id)
        open_doc = next((c for c in sight.shown if c["_id"] == doc.get("open_conversation_id")
                         and ConversationState(c["state"]) in OPEN_STATES), None)
        if open_doc is not None:  # shown as an inbox line (hub.wire.summary_json): preview, unread
            open_doc = await self._history.with_line(open_doc)
        return ContactProfile(
            id=ContactId(doc["_id"]), display_name=doc.get("display_name", ""),
            identities=group_by_channel(list(doc.get("identities", []))), open_conversation=open_doc,
            conversations=sight.shown,
            messages=await self._history.count_messages(sight.with_notes, sight.without_notes),
            merged_from=ids[1:], requested_id=contact_id, may_edit=sight.editable, area=doc.get("area"),
            readable=readable_all(list(doc.get("identities", []))), attributes=dict(doc.get("attributes") or {}))

    async def timeline(self, viewer: Agent, contact_id: str, *, before: str | None, limit: int) -> TimelinePage:
        """The messages of the contact's conversations the viewer may see, across channels, oldest
        first; pages go backwards in time from ``before`` (None: the newest page)."""
        doc, _, sight = await self._visible(viewer, contact_id)
        limit = max(1, min(limit, MAX_PAGE))
        cursor = decode_cursor(before) if before else None
        messages = await self._history.messages_before(sight.with_notes, sight.without_notes, cursor, limit + 1)
        older = None
        if len(messages) > limit:
            messages = messages[1:]
            older = encode_cursor(messages[0].sent_at, messages[0].id)
        return TimelinePage(contact_id=ContactId(doc["_id"]), messages=messages, conversations=sight.shown,
                            older=older)

    async def search(self, viewer: Agent, text: str) -> list[dict[str, Any]]:
        """Contacts by name (contains, any case) or by an exact identity (a phone, an e-mail), among
        those the viewer may see."""
        if not sees_contacts(viewer):
            raise Forbidden("contacts are for agents, supervisors and admins")
        text = text.strip()[:100]
        if not text:
            return []
        scope = None if viewer.role in SEES_EVERYTHING else await self._scope(viewer)
        return await self._contacts.search(text=text, identities=_identities_in(text), within=scope, limit=MAX_SEARCH)

    async def _scope(self, viewer: Agent) -> list[str]:
        candidates = await self._history.scope_candidates(viewer.id, viewer.skills)
        visible = [c["contact_id"] for c in candidates if conversation_sight(
            viewer, ConversationFacts.of(c, served_by_viewer=c["served_by_viewer"])).visible]
        return list(dict.fromkeys(visible))

    async def _visible(self, viewer: Agent, contact_id: str) -> tuple[dict[str, Any], list[str], ContactSight]:
        """The (surviving) contact, every id its conversations may carry (it and its tombstones),
        and what ``viewer`` may see of each conversation. Forbidden when she may see none."""
        if not sees_contacts(viewer):
            raise Forbidden("contacts are for agents, supervisors and admins")
        doc = await self._contacts.get(contact_id)
        if doc is None:
            raise NotFound(f"no contact {contact_id}")
        ids = [doc["_id"], *await self._contacts.merged_from(doc["_id"])]
        conversations = await self._history.conversations_of(ids)
        sight = contact_sight(viewer, conversations, await self._served(viewer, conversations))
        if not sight.visible:
            raise Forbidden("this contact has no conversation you may view")
        return doc, ids, sight

    async def _served(self, viewer: Agent, conversations: list[dict[str, Any]]) -> set[str]:
        """Which of ``conversations`` were ever assigned to ``viewer``; read only where the rule asks."""
        finished = [c["_id"] for c in conversations if ConversationState(c["state"]) in FINISHED]
        return set() if viewer.role in SEES_EVERYTHING else await self._history.served_among(finished, viewer.id)

    # -- changing -------------------------------------------------------------------------------
    async def link(self, viewer: Agent, contact_id: str, channel: str, address: str) -> ContactProfile:
        """Add an identity (a phone number, an e-mail address) to a contact; idempotent.
        Raises IdentityTaken (naming the owner) when another contact has it: merge instead."""
        identity = normalise(channel, address)
        doc, _ = await self._editable(viewer, contact_id)
        owner = await self._contacts.owner_of(identity.key)
        if owner is not None and owner["_id"] != doc["_id"]:
            raise IdentityTaken(owner["_id"])
        if owner is None:
            if not await self._contacts.add_identity(doc["_id"], identity.key):
                taken = await self._contacts.owner_of(identity.key)
                raise IdentityTaken(taken["_id"] if taken else "unknown")
            await self._record("contact.identity_linked", viewer, [doc["_id"]], {"channel": identity.channel})
            await self._tell(doc["_id"], "identity_linked")
            logger.info("contacts.identity.linked contact=%s channel=%s by=%s", doc["_id"], identity.channel, viewer.id)
        return await self.profile(viewer, doc["_id"])

    async def rename(self, viewer: Agent, contact_id: str, display_name: str) -> ContactProfile:
        name = clean_name(display_name)
        doc, ids = await self._editable(viewer, contact_id)
        await self._contacts.rename(doc["_id"], name)
        for cid in ids:
            await self._history.rename(cid, name)
        await self._record("contact.renamed", viewer, [doc["_id"]], {})
        await self._tell(doc["_id"], "renamed")
        return await self.profile(viewer, doc["_id"])

    async def set_attributes(self, viewer: Agent, contact_id: str, changes: dict[str, str | None]) -> ContactProfile:
        """Set or clear customer attributes (only the given keys); the audit names the keys, not the values."""
        to_set, to_clear = clean_attributes(changes)
        doc, _ = await self._editable(viewer, contact_id)
        await self._contacts.set_attributes(doc["_id"], to_set, to_clear)
        await self._record("contact.attributes_changed", viewer, [doc["_id"]], {"keys": sorted(changes)})
        await self._tell(doc["_id"], "attributes")
        return await self.profile(viewer, doc["_id"])

    async def _tell(self, contact_id: str, change: str, merged_from: str | None = None) -> None:
        if self._bus is not None:
            await self._bus.publish(ContactChanged(contact_id=contact_id, change=change, merged_from=merged_from))

    async def _editable(self, viewer: Agent, contact_id: str) -> tuple[dict[str, Any], list[str]]:
        doc, ids, sight = await self._visible(viewer, contact_id)
        if not sight.editable:
            raise Forbidden("agents change a contact only while they serve one of its conversations")
        return doc, ids

    async def merge(self, viewer: Agent, survivor_id: str, other_id: str) -> MergeResult:
        """Merge ``other`` into ``survivor``: identities move, conversations are re-pointed, ``other``
        stays as a tombstone, and one audit entry says who, when and what. Idempotent (a repeat
        finishes an interrupted merge and reports ``already``); safe when two merges race."""
        for _ in range(MERGE_ATTEMPTS):
            survivor, other = await self._contacts.get(survivor_id), await self._contacts.get_raw(other_id)
            if survivor is None or other is None:
                raise NotFound("no such contact")
            await self._check_merge_rights(viewer, survivor["_id"], other["_id"])
            plan = await self._plan(survivor, other)
            if plan.action is MergeAction.RESUME:
                return await self._finish(viewer, survivor, other, plan, already=True)
            token = new_id("mg")
            if not await self._contacts.tombstone(other["_id"], survivor["_id"], at=self._clock.now(),
                                                  expected_open=other.get("open_conversation_id"),
                                                  actor=viewer.id, token=token):
                continue  # merged or given a conversation meanwhile: decide again
            again = await self._contacts.get_raw(survivor["_id"])
            if again is None or again.get("merged_into"):
                # Two merges in opposite directions: each saw the other's side unmerged. Ours backs
                # off, so no cycle can form; the caller may retry.
                await self._contacts.undo_tombstone(other["_id"], token)
                raise ConcurrentUpdate("the other contact was merged at the same time; reload and retry")
            tombstoned = await self._contacts.get_raw(other["_id"])
            assert tombstoned is not None
            return await self._finish(viewer, survivor, tombstoned, plan, already=False)
        raise ConcurrentUpdate("the contacts kept changing during the merge; retry")

    async def _check_merge_rights(self, viewer: Agent, survivor_id: str, other_id: str) -> None:
        if viewer.role in SEES_EVERYTHING:
            return
        sides: list[list[ConversationFacts]] = []
        for cid in (survivor_id, other_id):
            conversations = await self._history.conversations_of([cid, *await self._contacts.merged_from(cid)])
            sides.append(facts_of(conversations, await self._served(viewer, conversations)))
        if not may_merge_contacts(viewer, sides[0], sides[1]):
            raise Forbidden("agents merge two contacts only while serving one and having served the other; "
                            "ask a supervisor")

    async def _plan(self, survivor: dict[str, Any], other: dict[str, Any]) -> MergePlan:
        return plan_merge(await self._facts(survivor), await self._facts(other))

    async def _facts(self, doc: dict[str, Any]) -> ContactFacts:
        open_id = doc.get("open_conversation_id")
        if open_id:
            found = await self._history.conversations_by_id([open_id])
            if not found or ConversationState(found[0]["state"]) not in OPEN_STATES:
                open_id = None
        return ContactFacts(id=ContactId(doc["_id"]), merged_into=doc.get("merged_into"),
                            open_conversation_id=ConversationId(open_id) if open_id else None)

    async def _finish(self, viewer: Agent, survivor: dict[str, Any], other: dict[str, Any], plan: MergePlan, *,
                      already: bool) -> MergeResult:
        """The idempotent steps after the commit point; a repeat of the merge runs them again."""
        moved = await self._contacts.move_identities(other, survivor["_id"])
        kept = survivor.get("attributes") or {}
        adopted = {k: v for k, v in (other.get("attributes") or {}).items() if k not in kept}
        await self._contacts.set_attributes(survivor["_id"], adopted, [])  # the survivor's own values win
        repointed = await self._history.repoint(other["_id"], survivor["_id"], survivor.get("display_name", ""))
        if plan.hand_over_open is not None:
            await self._contacts.set_open_conversation(survivor["_id"], survivor.get("open_conversation_id"),
                                                       plan.hand_over_open)
        first = await self._audit.record({
            "_id": f"contact.merged:{other['_id']}", "type": "contact.merged", "at": other.get("merged_at"),
            "actor": other.get("merged_by"), "contacts": [survivor["_id"], other["_id"]],
            "detail": {"survivor": survivor["_id"], "merged": other["_id"],
                       "merged_name": other.get("display_name", ""), "identities": len(moved),
                       "channels": sorted({k.split(":", 1)[0] for k in moved}),
                       "open_conversation": plan.hand_over_open}})
        if first:
            await self._tell(survivor["_id"], "merged", merged_from=other["_id"])
            logger.info("contacts.merged survivor=%s merged=%s by=%s identities=%d conversations=%d",
                        survivor["_id"], other["_id"], other.get("merged_by"), len(moved), repointed)
        return MergeResult(survivor=ContactId(survivor["_id"]), merged=ContactId(other["_id"]),
                           already=already, identities=moved, conversations=repointed)

    async def _record(self, kind: str, viewer: Agent, contacts: list[str], detail: dict[str, Any]) -> None:
        await self._audit.record({"_id": new_id("au"), "type": kind, "at": self._clock.now(), "actor": viewer.id,
                                  "contacts": contacts, "detail": detail})

    async def audit(self, viewer: Agent, contact_id: str) -> list[dict[str, Any]]:
        doc, _, _ = await self._visible(viewer, contact_id)
        return await self._audit.about_contact(doc["_id"])


def _identities_in(text: str) -> list[str]:
    """A search text that is a phone number, an e-mail address or a Telegram id, as identity keys."""
    for channels in (("sms", "voice"), ("email",), ("telegram",)):
        try:
            return [normalise(channel, text).key for channel in channels]
        except InvalidInput:
            continue
    return []
