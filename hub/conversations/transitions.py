"""State changes: each stored with its event, then told to every process; queueing for humans."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from hub.conversations.core import ConversationCore
from hub.domain.events import ConversationChanged, EventType
from hub.domain.ids import QueueId
from hub.domain.model import Conversation
from hub.domain.moves import Move, MoveOutcome
from hub.domain.states import ConversationState
from hub.errors import NotFound
from hub.ports import Directory, Router
from hub.storage.conversations import conversation_from_doc
from hub.storage.transition_batch import StoredMove
from hub.wire import summary_json

logger = logging.getLogger(__name__)

ENQUEUE_BUDGET_S = 1.0  # a first message waits no longer for Redis; routing's sweep enqueues it later


class TransitionBatch(Protocol):
    """``hub.storage.transition_batch.MongoTransitionBatch``."""

    async def apply(self, moves: Sequence[Move], *, at: datetime) -> list[StoredMove]: ...


class Transitions:
    """Implements ``hub.ports.ConversationTransitions`` (routing) and the queueing the other sides share."""

    def __init__(self, core: ConversationCore, *, directory: Directory, router: Router,
                 batch: TransitionBatch) -> None:
        self._core = core
        self._directory = directory
        self._router = router
        self._batch = batch

    async def transition(self, conversation: Conversation, target: ConversationState, event_type: EventType, *,
                         actor: str, changes: Mapping[str, Any] | None = None,
                         detail: Mapping[str, str] | None = None) -> Conversation:
        """Store the transition (and its event), then tell every process. See the store's contract:
        raises ``IllegalTransition`` for a move that is no edge or an ``event_type`` not bound to it."""
        doc = await self._core.conversations.transition(
            conversation, target, event_type=event_type, at=self._core.clock.now(), actor=actor, changes=changes,
            detail=detail)
        moved = conversation_from_doc(doc)
        self._core.current.remember(moved)  # before anyone is answered: this process never serves it stale
        await self._core.tell(ConversationChanged(event=event_type, version=int(doc["version"]),
                                                  summary=summary_json(doc), previous_agent=conversation.agent_id))
        logger.info("conversation.%s id=%s state=%s->%s", event_type, conversation.id, conversation.state, target)
        return moved

    async def transition_many(self, moves: Sequence[Move]) -> list[MoveOutcome]:
        """Store many transitions in a few round trips (``MongoTransitionBatch``), then tell every
        process of each stored one; a refused move fails alone (``MoveOutcome.refused``)."""
        outcomes: list[MoveOutcome] = []
        for stored in await self._batch.apply(moves, at=self._core.clock.now()):
            move = stored.move
            if stored.refused is not None or stored.after is None:
                found = ConversationState(stored.before["state"]) if stored.before else None
                outcomes.append(MoveOutcome(move=move, refused=stored.refused or "conflict", found=found))
                continue
            moved = conversation_from_doc(stored.after)
            self._core.current.remember(moved)  # as ``transition`` does: never served stale here
            previous = stored.before.get("agent_id") if stored.before else None
            await self._core.tell(ConversationChanged(event=move.event_type, version=moved.version,
                                                      summary=summary_json(stored.after), previous_agent=previous))
            outcomes.append(MoveOutcome(move=move, moved=moved))
        return outcomes

    async def queue_for_humans(self, conversation: Conversation, queue_id: str, *, event_type: EventType,
                               handover: Mapping[str, Any] | None = None,
                               detail: Mapping[str, str] | None = None) -> Conversation:
        """Move a conversation (new or with the bot) into a queue; routing takes it from there."""
        try:
            queue = await self._directory.queue(queue_id)
            changes: dict[str, Any] = {"queue": queue.id, "skills": queue.skills, "priority": queue.priority}
        except NotFound:
            changes = {"queue": QueueId(queue_id), "skills": frozenset(), "priority": 0}
        changes["queued_at"] = self._core.clock.now()
        if handover is not None:
            changes["handover"] = {**handover, "queue": changes["queue"], "priority": changes["priority"]}
        queued = await self.transition(conversation, ConversationState.QUEUED, event_type, actor="system",
                                       changes=changes, detail=detail)
        try:
            async with asyncio.timeout(ENQUEUE_BUDGET_S):
                await self._router.enqueue(queued)
        except Exception as err:  # Redis away or slow: MongoDB says queued, and routing's sweep enqueues it
            logger.warning("routing.enqueue.deferred id=%s error=%s", queued.id, type(err).__name__)
        return queued
