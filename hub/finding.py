"""Finding conversations (issue 16 item 1): search, the console's views with their counts, labels,
and reopening a finished conversation. Who sees what is ``hub.domain.visibility``'s one rule,
applied to every candidate here; the queries are ``hub.storage.conversation_search``'s.

``SearchIndexer`` is the durable consumer (``hub.consumers``) that keeps the search terms: on each
transition that ends a stretch of talk (handover, transfer, wrap-up, resolve...) it indexes the
conversation again from its stored messages, so a resolved conversation is always findable, also
after a crash (the consumer repeats a batch; indexing is idempotent).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

from hub.clock import Clock
from hub.domain.events import EventType
from hub.domain.finding import VIEW_STATES, Filters, View, check_label, conversation_terms
from hub.domain.model import Agent, Conversation
from hub.domain.states import ConversationState
from hub.domain.stream import StoredEvent
from hub.domain.visibility import FINISHED, SEES_EVERYTHING, SERVES, ConversationFacts, Sight, conversation_sight
from hub.errors import IllegalTransition, InvalidInput
from hub.storage.conversation_search import MongoConversationSearch

logger = logging.getLogger(__name__)

S = ConversationState
MAX_LISTED = 100  # conversations one list shows
MAX_COUNTED = 1_000  # candidates a count reads; beyond, the count says "at least"
# Transitions after which a conversation's text is indexed again.
INDEXED_ON = frozenset({EventType.HANDED_OVER, EventType.QUEUED, EventType.TRANSFERRED, EventType.ASSIGNED,
                        EventType.WRAPPED_UP, EventType.CALL_ENDED, EventType.RESOLVED, EventType.ABANDONED,
                        EventType.REOPENED, EventType.CLOSED, EventType.SURVEY_ANSWERED})


class Looking(Protocol):
    """``hub.conversations.agents.AgentSide``: one conversation as the visibility rule lets her see it."""

    async def look(self, agent: Agent, conversation_id: str) -> tuple[dict[str, Any], Sight]: ...


class Reopening(Protocol):
    """``hub.conversations.handing.HandOn``: the transition and the queueing of a reopen."""

    async def reopen(self, agent: Agent, conversation_id: str) -> Conversation: ...


class HandOnDesk(Reopening, Protocol):
    """``hub.conversations.handing.HandOn`` as the console sees it (pick, transfer, reopen)."""

    async def pick(self, agent: Agent, conversation_id: str) -> Conversation: ...

    async def transfer(self, agent: Agent, conversation_id: str, *, queue_id: str | None, to_agent: str | None,
                       note: str | None) -> tuple[Conversation, str | None]: ...


class ConversationFinder:
    def __init__(self, store: MongoConversationSearch, desk: Looking, hand_on: Reopening) -> None:
        self._store = store
        self._desk = desk
        self._hand_on = hand_on

    async def find(self, viewer: Agent, filters: Filters) -> dict[str, Any]:
        """The conversations of one list the viewer may see (latest changed first), and the counts
        of every view under the same queue, channel, label and search."""
        served = await self._served(viewer)
        ids = await self._ids(filters)
        lists: dict[View, list[dict[str, Any]]] = {}
        for view in View:
            candidates = [] if ids == [] else await self._store.listed(
                filters, states=VIEW_STATES[view], agents=_holders(viewer, view), ids=ids, limit=MAX_COUNTED)
            lists[view] = [d for d in candidates if _visible(viewer, d, served)]
        return {"conversations": lists[filters.view][:MAX_LISTED],
                "counts": {view.value: len(found) for view, found in lists.items()},
                "capped": any(len(found) >= MAX_COUNTED for found in lists.values())}

    async def labels(self) -> list[str]:
        return await self._store.all_labels()

    async def label(self, viewer: Agent, conversation_id: str, raw: str, *, add: bool) -> list[str]:
        """Add or remove a label: whoever may see the conversation (an agent her own and the
        queue's she could take, supervisors any)."""
        label = check_label(raw)
        await self._desk.look(viewer, conversation_id)  # NotFound / Forbidden
        if not add:
            return await self._store.remove_label(conversation_id, label)
        labels = await self._store.add_label(conversation_id, label)
        if labels is None:
            raise InvalidInput("a conversation has at most 20 labels")
        return labels

    async def reopen(self, viewer: Agent, conversation_id: str) -> Conversation:
        """A finished conversation back into its queue (``reopened``): whoever may see it."""
        doc, _ = await self._desk.look(viewer, conversation_id)
        if S(doc["state"]) is not S.RESOLVED:
            raise IllegalTransition(f"only a resolved conversation is reopened (it is {doc['state']})")
        other = await self._store.open_of_contact(doc["contact_id"])
        if other is not None:  # two open conversations of one customer would split what she writes
            raise IllegalTransition(f"the customer has an open conversation already ({other})")
        return await self._hand_on.reopen(viewer, conversation_id)

    async def _ids(self, filters: Filters) -> list[str] | None:
        if filters.conversation_id is not None:
            return [filters.conversation_id]
        if filters.terms:
            return await self._store.matching(filters.terms)
        return None

    async def _served(self, viewer: Agent) -> set[str]:
        return await self._store.served_by(viewer.id) if viewer.role in SERVES else set()


def _holders(viewer: Agent, view: View) -> frozenset[str] | None:
    """Whose conversations a view lists (None: anyone's); visibility narrows further."""
    if view is View.MINE:
        return frozenset({viewer.id})
    if view is View.TEAM and viewer.role not in SEES_EVERYTHING:
        return frozenset({viewer.id, *viewer.leads})
    return None


def _visible(viewer: Agent, doc: dict[str, Any], served: set[str]) -> bool:
    facts = ConversationFacts.of(doc, served_by_viewer=S(doc["state"]) in FINISHED and doc["_id"] in served)
    return conversation_sight(viewer, facts).visible


class SearchIndexer:
    """``hub.consumers.DurableConsumer`` named ``search``: conversations' search terms."""

    name = "search"

    def __init__(self, store: MongoConversationSearch, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def handle(self, batch: Sequence[StoredEvent]) -> None:
        """One read per collection for the whole batch (ADR 0058), one bulk write of the terms."""
        due = list(dict.fromkeys(e.conversation_id for e in batch if e.type in INDEXED_ON))
        if not due:
            return
        materials = await self._store.materials(due)
        await self._store.put_many_terms({cid: conversation_terms(texts, contact_name=name, identities=identities)
                                          for cid, (texts, name, identities) in materials.items()}, self._clock.now())

    async def index(self, conversation_id: str) -> None:
        material = await self._store.material(conversation_id)
        if material is None:
            return
        texts, name, identities = material
        await self._store.put_terms(conversation_id, conversation_terms(texts, contact_name=name,
                                                                        identities=identities), self._clock.now())

    async def reset(self) -> None:
        await self._store.drop_index()
        logger.warning("search.reset (terms rebuilt from the first event)")

