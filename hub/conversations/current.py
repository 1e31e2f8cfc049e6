"""The conversations this process answers for on the message path, without a read per message.

An agent's reply needs the conversation's holder, state and channel; reading them from MongoDB for
every reply was one query per round trip. Entries come from one read (a miss) and leave by the
event seam's facts, the invalidation rule:

* every transition this process stores replaces its entry at once (``Transitions``), before the
  caller is answered, so what this process did it never serves stale;
* every ``ConversationChanged`` fact from the bus (any process's transition) drops the entry: the
  next use reads it again, one read per transition, not per message;
* a customer message on another channel than the entry's (``MessageStored``) marks it multichannel,
  as ``mark_multichannel`` does in MongoDB, so replies look up where the customer last wrote;
* an entry older than ``ttl_s`` is read again: the bus is at most once, and a fact lost in a Redis
  hiccup must not keep a stale holder for longer than that;
* when the bus subscribes again after a gap (``BusResubscribed``) every entry goes: facts were lost.

Transitions themselves never use it: they read the conversation and compare its version.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from hub.domain.events import BusResubscribed, ConversationChanged, MessageStored
from hub.domain.ids import Author
from hub.domain.model import Conversation
from hub.domain.states import OPEN_STATES
from hub.ports import EventBus
from hub.storage.conversations import MongoConversationStore

SUBSCRIBER = "conversations:current"
MAX_ENTRIES = 50_000


class CurrentConversations:
    """A bounded, time-limited map of conversation id -> ``Conversation`` fed by reads and facts."""

    def __init__(self, store: MongoConversationStore, *, ttl_s: float,
                 monotonic: Callable[[], float] = time.monotonic, max_entries: int = MAX_ENTRIES) -> None:
        self._store = store
        self._ttl_s = ttl_s
        self._monotonic = monotonic
        self._max_entries = max_entries
        self._entries: dict[str, tuple[float, Conversation]] = {}
        self.reads = 0  # misses that read MongoDB (tests and the benchmark count them)

    def listen(self, bus: EventBus) -> None:
        """Wiring: the seam's facts keep the entries true (see the module's rule)."""
        bus.subscribe(ConversationChanged, self._on_conversation, subscriber=SUBSCRIBER)
        bus.subscribe(MessageStored, self._on_message, subscriber=SUBSCRIBER)
        bus.subscribe(BusResubscribed, self._on_resubscribed, subscriber=SUBSCRIBER)

    async def get(self, conversation_id: str) -> Conversation:
        """The conversation as last known; one read on a miss (``NotFound`` for an unknown id)."""
        entry = self._entries.get(conversation_id)
        if entry is not None and self._monotonic() - entry[0] <= self._ttl_s:
            return entry[1]
        self.reads += 1
        conversation = await self._store.get(conversation_id)
        self.remember(conversation)
        return conversation

    def remember(self, conversation: Conversation) -> None:
        """What this process just stored or read (a transition's result)."""
        self._entries.pop(conversation.id, None)  # re-inserted last: the oldest is forgotten first
        self._entries[conversation.id] = (self._monotonic(), conversation)
        if len(self._entries) > self._max_entries:
            del self._entries[next(iter(self._entries))]

    def left_open(self, conversation_id: str) -> bool:
        """Whether this process last saw the conversation outside the open states (its own
        transition, or a read), without a read: a channel session's view that it is still open is
        then older than this process's (a widget writing while its agent's resolve was on the bus)."""
        entry = self._entries.get(conversation_id)
        return entry is not None and entry[1].state not in OPEN_STATES

    def forget(self, conversation_id: str) -> None:
        self._entries.pop(conversation_id, None)

    async def _on_resubscribed(self, fact: BusResubscribed) -> None:
        self._entries.clear()

    async def _on_conversation(self, fact: ConversationChanged) -> None:
        entry = self._entries.get(fact.conversation_id)
        if entry is not None and entry[1].version < fact.version:
            del self._entries[fact.conversation_id]

    async def _on_message(self, fact: MessageStored) -> None:
        entry = self._entries.get(fact.conversation_id)
        if entry is None or fact.author is not Author.CUSTOMER:
            return
        conversation = entry[1]
        if fact.message.get("channel") not in (None, conversation.channel) and not conversation.multichannel:
            self._entries[conversation.id] = (entry[0], replace(conversation, multichannel=True))
