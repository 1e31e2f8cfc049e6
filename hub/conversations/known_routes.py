"""Where a conversation's replies go, known to the process: no read per reply (ADR 0061).

A reply's route (the channel and address the customer last wrote from) and its thread (what the
channel needs to answer in kind: the number the customer wrote to, e-mail's ``In-Reply-To`` and
``References``) are made from the conversation's inbound messages and its sent ones with provider
ids (``MongoMessageStore.reply_thread``, ADR 0051). That read returned the whole conversation, up
to 1,000 documents, once per reply: its cost grew with the conversation, and an SMS hub at 50
round trips/s spent most of SecantusDB's time on it. Here the list is kept per conversation:

* filled by that read on a miss;
* a customer message this process stores is appended (``stored``), before its ``MessageStored``
  fact is told; a send this process made is appended with its provider ids (``sent``);
* a ``MessageStored`` fact of a customer message this entry does not hold (another process stored
  it: the customer may have written from another channel) drops the entry: the next reply reads;
* an entry older than ``ttl_s`` is read again (the bus is at most once), and every entry goes when
  the bus subscribes again after a gap (``BusResubscribed``, ADR 0060).

What staleness is possible, and why it is safe: with a fact lost, for at most ``ttl_s`` a reply
goes where the customer wrote from before their message to another process (the conversation's
previous channel and address, which reach the same customer). A send made by another process is
missing from an e-mail's ``References`` until the entry is read again (ADR 0051 accepted the same
for a send not yet made when the reply was routed); ``In-Reply-To`` is the customer's message.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.domain.events import BusResubscribed, MessageStored
from hub.domain.ids import Author
from hub.domain.model import Message
from hub.ports import EventBus
from hub.storage.message_docs import message_to_doc
from hub.storage.messages import REPLY_THREAD_LIMIT, MongoMessageStore

SUBSCRIBER = "routes:known"
MAX_ENTRIES = 20_000
THREAD_FIELDS = ("_id", "channel", "inbound", "address", "external_id", "provider_ids", "meta", "sent_at")


@dataclass(slots=True)
class _Entry:
    since: float  # monotonic time of the read
    docs: list[dict[str, Any]] = field(default_factory=list)  # oldest first, as ``reply_thread`` answers
    ids: set[str] = field(default_factory=set)


class KnownRoutes:
    """A bounded, time-limited map of conversation id -> its reply thread, fed by reads and by this
    process's own messages and sends, dropped by other processes' customer messages."""

    def __init__(self, messages: MongoMessageStore, *, ttl_s: float,
                 monotonic: Callable[[], float] = time.monotonic, max_entries: int = MAX_ENTRIES) -> None:
        self._messages = messages
        self._ttl_s = ttl_s
        self._monotonic = monotonic
        self._max_entries = max_entries
        self._entries: dict[str, _Entry] = {}
        # Reads under way: what happened to their conversation meanwhile (a doc to add once the read
        # is in; None: another process's message, the read cannot be trusted and is not kept).
        self._reading: dict[str, list[list[dict[str, Any] | None]]] = {}
        self.reads = 0  # misses that read MongoDB (tests and the benchmark count them)

    def listen(self, bus: EventBus) -> None:
        bus.subscribe(MessageStored, self._on_stored, subscriber=SUBSCRIBER)
        bus.subscribe(BusResubscribed, self._on_resubscribed, subscriber=SUBSCRIBER)

    async def thread(self, conversation_id: str) -> Sequence[Mapping[str, Any]]:
        """What ``MongoMessageStore.reply_thread`` answers, without a read while the entry is known:
        the entry's own documents, read-only (a reply routed from them copies nothing, ADR 0075)."""
        entry = self._fresh(conversation_id)
        if entry is not None:
            return tuple(entry.docs)
        self.reads += 1
        since = self._monotonic()
        meanwhile: list[dict[str, Any] | None] = []
        self._reading.setdefault(conversation_id, []).append(meanwhile)
        try:
            docs = await self._messages.reply_thread(conversation_id)
        finally:
            readers = self._reading[conversation_id]
            readers.remove(meanwhile)
            if not readers:
                del self._reading[conversation_id]
        if None in meanwhile:
            return docs
        entry = _Entry(since=since)
        for doc in [*docs, *meanwhile]:
            if doc is not None:
                _add(entry, {k: doc[k] for k in THREAD_FIELDS if k in doc})
        self._put(conversation_id, entry)
        return tuple(entry.docs)

    def knows(self, conversation_id: str) -> bool:
        """Whether a reply in ``conversation_id`` is routed without a read now (tests and diagnostics)."""
        return self._fresh(conversation_id) is not None

    def stored(self, message: Message) -> None:
        """This process stored a customer message: the conversation's next reply goes back there."""
        if message.author is Author.CUSTOMER:
            doc = message_to_doc(message)
            self._change(message.conversation_id, {k: doc[k] for k in THREAD_FIELDS if k in doc})

    def sent(self, doc: Mapping[str, Any], provider_ids: list[str]) -> None:
        """This process's outbox handed a message to its channel: its provider ids join the thread."""
        if provider_ids:
            self._change(str(doc["conversation_id"]), {
                "_id": doc["_id"], "channel": doc["channel"], "inbound": False, "provider_ids": list(provider_ids),
                "sent_at": doc["sent_at"]})

    def _change(self, conversation_id: str, doc: dict[str, Any] | None) -> None:
        """``doc`` joins the conversation's thread; None: something this process cannot add did."""
        for meanwhile in self._reading.get(conversation_id, ()):
            meanwhile.append(doc)
        entry = self._entries.get(conversation_id)
        if entry is None:
            return
        if doc is None:
            self.forget(conversation_id)
        else:
            _add(entry, doc)

    def forget(self, conversation_id: str) -> None:
        self._entries.pop(conversation_id, None)

    def _fresh(self, conversation_id: str) -> _Entry | None:
        entry = self._entries.get(conversation_id)
        if entry is None or self._monotonic() - entry.since > self._ttl_s:
            return None
        return entry

    def _put(self, conversation_id: str, entry: _Entry) -> None:
        self._entries.pop(conversation_id, None)
        self._entries[conversation_id] = entry  # re-inserted last: the oldest is forgotten first
        while len(self._entries) > self._max_entries:
            del self._entries[next(iter(self._entries))]

    async def _on_stored(self, fact: MessageStored) -> None:
        if fact.author is not Author.CUSTOMER:
            return
        message_id = str(fact.message.get("id"))
        entry = self._entries.get(fact.conversation_id)
        readers = self._reading.get(fact.conversation_id, ())
        known = (entry is not None and message_id in entry.ids) or any(
            doc is not None and str(doc["_id"]) == message_id for meanwhile in readers for doc in meanwhile)
        if not known:
            self._change(fact.conversation_id, None)

    async def _on_resubscribed(self, fact: BusResubscribed) -> None:
        self._entries.clear()


def _add(entry: _Entry, doc: dict[str, Any]) -> None:
    """Insert by ``sent_at`` (a send's provider ids come after later messages were stored), once."""
    if str(doc["_id"]) in entry.ids:
        return
    entry.ids.add(str(doc["_id"]))
    sent_at = _naive(doc["sent_at"])
    if not entry.docs or _naive(entry.docs[-1]["sent_at"]) <= sent_at:
        entry.docs.append(doc)
    else:
        entry.docs.insert(bisect.bisect_right(entry.docs, sent_at, key=_sent_at), doc)
    if len(entry.docs) > REPLY_THREAD_LIMIT:
        oldest = entry.docs.pop(0)
        entry.ids.discard(str(oldest["_id"]))


def _sent_at(doc: Mapping[str, Any]) -> datetime:
    return _naive(doc["sent_at"])


def _naive(at: datetime) -> datetime:
    """Documents read back and messages made here compare alike (UTC either way)."""
    return at.replace(tzinfo=None) if at.tzinfo is not None else at
