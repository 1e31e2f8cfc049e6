"""The contacts this process recognises customers by, without a read per message (ADR 0058).

A customer message is first matched to its contact by the channel address (``sms:+86…``): one
query per message before. Entries come from that query (a miss) and leave by one rule:

* a ``ContactChanged`` fact from the bus (any process: a rename, a linked identity, new
  attributes, a merge) drops every entry of the contact it names and of ``merged_from``: the next
  message reads again;
* an entry older than ``ttl_s`` is read again: the bus is at most once;
* when the bus subscribes again after a gap (``BusResubscribed``, ADR 0060) every entry goes.

An entry keeps what the message path uses: the contact's id, display name and open conversation.
The open conversation is a hint, as it always was: the inbox checks its state and, when it is not
open, reads the contact again before starting one (``CustomerInbox._open_or_start``); the inbox
tells this map which conversation a message went to (``opened``), so the next message of a new
conversation needs no read either.

What staleness is possible, and why it is safe: with a lost fact, for at most ``ttl_s``, a message
names a merged contact (a tombstone) as its author, or an old display name. Tombstones resolve to
their survivor everywhere (``MongoContactStore.get``), and the conversation a message is stored in
is decided by the conversation's own state, not by this map.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from hub.domain.events import BusResubscribed, ContactChanged
from hub.ports import EventBus
from hub.storage.contacts import MongoContactStore

SUBSCRIBER = "contacts:known"
MAX_ENTRIES = 50_000


@dataclass(frozen=True, slots=True)
class KnownContact:
    id: str
    display_name: str
    open_conversation_id: str | None
    since: float  # monotonic time of the read

    def as_doc(self) -> dict[str, Any]:
        """The shape ``MongoContactStore.ensure`` answers (the fields the message path reads)."""
        return {"_id": self.id, "display_name": self.display_name, "open_conversation_id": self.open_conversation_id}


class KnownContacts:
    """A bounded, time-limited map of identity key -> contact, fed by reads and dropped by facts."""

    def __init__(self, store: MongoContactStore, *, ttl_s: float,
                 monotonic: Callable[[], float] = time.monotonic, max_entries: int = MAX_ENTRIES) -> None:
        self._store = store
        self._ttl_s = ttl_s
        self._monotonic = monotonic
        self._max_entries = max_entries
        self._entries: dict[str, KnownContact] = {}
        self._identities: dict[str, set[str]] = {}  # contact id -> identity keys held here
        self.reads = 0  # misses that read MongoDB (tests and the benchmark count them)

    def listen(self, bus: EventBus) -> None:
        bus.subscribe(ContactChanged, self._on_changed, subscriber=SUBSCRIBER)
        bus.subscribe(BusResubscribed, self._on_resubscribed, subscriber=SUBSCRIBER)

    async def ensure(self, identity: str, display_name: str, at: datetime) -> dict[str, Any]:
        """The contact owning ``identity`` (created on first sight), as last known."""
        entry = self._entries.get(identity)
        if entry is not None and self._monotonic() - entry.since <= self._ttl_s:
            return entry.as_doc()
        self.reads += 1
        doc = await self._store.ensure(identity, display_name, at)
        self._put(identity, KnownContact(doc["_id"], doc.get("display_name", ""), doc.get("open_conversation_id"),
                                         self._monotonic()))
        return doc

    def knows(self, identity: str) -> bool:
        """Whether ``identity`` is answered without a read now (tests and diagnostics)."""
        entry = self._entries.get(identity)
        return entry is not None and self._monotonic() - entry.since <= self._ttl_s

    def opened(self, identity: str, contact_id: str, conversation_id: str) -> None:
        """A message of ``identity`` went to ``conversation_id``: the contact's open conversation now."""
        entry = self._entries.get(identity)
        if entry is not None and entry.id == contact_id and entry.open_conversation_id != conversation_id:
            self._entries[identity] = replace(entry, open_conversation_id=conversation_id)

    def forget_contact(self, contact_id: str) -> None:
        for identity in self._identities.pop(contact_id, set()):
            self._entries.pop(identity, None)

    def _put(self, identity: str, entry: KnownContact) -> None:
        old = self._entries.pop(identity, None)
        if old is not None and old.id != entry.id:
            self._identities.get(old.id, set()).discard(identity)
        self._entries[identity] = entry  # re-inserted last: the oldest is forgotten first
        self._identities.setdefault(entry.id, set()).add(identity)
        if len(self._entries) > self._max_entries:
            oldest = next(iter(self._entries))
            dropped = self._entries.pop(oldest)
            held = self._identities.get(dropped.id)
            if held is not None:
                held.discard(oldest)
                if not held:
                    del self._identities[dropped.id]

    async def _on_resubscribed(self, fact: BusResubscribed) -> None:
        self._entries.clear()
        self._identities.clear()

    async def _on_changed(self, fact: ContactChanged) -> None:
        self.forget_contact(fact.contact_id)
        if fact.merged_from:
            self.forget_contact(fact.merged_from)
