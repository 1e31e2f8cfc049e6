"""Many transitions in a handful of round trips (the offers of one routing round).

Per conversation the contract of ``MongoConversationStore.transition`` holds: the event, under
its unique ``(conversation_id, version)`` key, is the commit point, and the projection follows
with a version check. For a whole batch it costs one read of the conversations, one draw of event
numbers, one unordered insert of the events, one unordered bulk update of the projections and one
read of the documents after, whatever the batch's size. A move whose conversation is missing, is
no longer in the state its decider saw, or whose event lost the version race is refused alone
(``MoveOutcome.refused``); the others are stored. A failure of the database itself (nothing can be
known to be stored) raises ``PyMongoError`` to the caller.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from hub.domain.events import check_event
from hub.domain.model import ConversationEvent
from hub.domain.moves import Move
from hub.domain.stream import must_confirm
from hub.errors import ConcurrentUpdate, HubError, IllegalTransition, NotFound
from hub.storage.conversations import MUTABLE_FIELDS, conversation_from_doc, event_to_doc, storable
from hub.storage.database import DUPLICATE_KEY, Db, Document
from hub.storage.eventlog import MongoEventSequence
from hub.storage.inbox_lines import MongoInboxLines

logger = logging.getLogger(__name__)



@dataclass(frozen=True, slots=True, kw_only=True)
class StoredMove:
    """One move as stored: the documents before and after it, or why it was refused."""

    move: Move
    before: Document | None = None
    after: Document | None = None
    refused: str | None = None


@dataclass(slots=True)
class _Pending:
    move: Move
    before: Document
    event: Document


class MongoTransitionBatch:
    """Implements the batch side of the conversation store. Safe to share between coroutines."""

    def __init__(self, db: Db) -> None:
        self._conversations = db["conversations"]
        self._events = db["events"]
        self._voids = db["event_voids"]
        self._sequence = MongoEventSequence(db)
        self._lines = MongoInboxLines(db)  # the moved conversations' summaries show their inbox lines

    async def apply(self, moves: Sequence[Move], *, at: datetime) -> list[StoredMove]:
        """Store ``moves`` (at most one per conversation; a repeated one is refused as a conflict)."""
        if not moves:
            return []
        ids = sorted({m.conversation_id for m in moves})
        before = {doc["_id"]: doc async for doc in self._conversations.find({"_id": {"$in": ids}})}
        refused: dict[int, str] = {}
        pending: dict[int, _Pending] = {}
        seen: set[str] = set()
        for i, move in enumerate(moves):
            try:
                if move.conversation_id in seen:
                    raise ConcurrentUpdate(f"conversation {move.conversation_id} twice in one batch")
                seen.add(move.conversation_id)
                doc = before.get(move.conversation_id)
                if doc is None:
                    raise NotFound(f"no conversation {move.conversation_id}")
                pending[i] = _Pending(move=move, before=doc, event=_event_of(move, doc, at))
            except HubError as err:
                refused[i] = err.code
            except (KeyError, TypeError, ValueError) as err:  # a damaged document: refuse it, keep the rest
                logger.warning("storage.batch.unreadable id=%s error=%s", move.conversation_id, type(err).__name__)
                refused[i] = "invalid_document"
        if pending:
            await self._insert_events(pending, refused)
        if pending:
            await self._project(pending, refused, at)
        after: dict[str, Document] = {}
        if pending:
            stored_ids = [p.move.conversation_id for p in pending.values()]
            moved = await self._conversations.find({"_id": {"$in": stored_ids}}).to_list(None)
            after = {doc["_id"]: doc for doc in await self._lines.joined(moved)}
        out: list[StoredMove] = []
        for i, move in enumerate(moves):
            doc = after.get(move.conversation_id)
            if i in pending and doc is not None and int(doc["version"]) > int(pending[i].before["version"]):
                out.append(StoredMove(move=move, before=pending[i].before, after=doc))
            elif i in pending:  # its event is stored but the projection did not move: reconcile replays it
                logger.warning("storage.batch.projection_missed id=%s", move.conversation_id)
                out.append(StoredMove(move=move, before=pending[i].before, refused="unavailable"))
            else:
                out.append(StoredMove(move=move, before=before.get(move.conversation_id),
                                      refused=refused.get(i, "conflict")))
        return out

    async def _insert_events(self, pending: dict[int, _Pending], refused: dict[int, str]) -> None:
        """Number and insert the events in one go; an event that lost its version race is refused."""
        order = sorted(pending)
        started = time.monotonic()
        last = await self._sequence.draw(len(order))
        for offset, i in enumerate(order):
            pending[i].event["seq"] = last - len(order) + 1 + offset
        failed: dict[int, int] = {}  # position in ``order`` -> error code
        try:
            await self._events.insert_many([pending[i].event for i in order], ordered=False)
        except BulkWriteError as err:
            failed = {int(e["index"]): int(e.get("code", 0)) for e in err.details.get("writeErrors", [])}
        for position, code in failed.items():
            i = order[position]
            refused[i] = "conflict" if code == DUPLICATE_KEY else "unavailable"
            event = pending.pop(i).event
            await self._voids.update_one({"_id": event["seq"]}, {"$set": {"event_id": event["_id"]}}, upsert=True)
        await self._confirm(list(pending.values()), started)

    async def _confirm(self, stored: list[_Pending], started: float) -> None:
        """``MongoEventSequence.insert``'s rule for a batch: events stored so late that a consumer may
        have sealed their numbers move to new ones (hub/domain/stream.py)."""
        while stored and must_confirm(time.monotonic() - started):
            sealed = await self._sequence.sealed()
            late = [p for p in stored if p.event["seq"] <= sealed]
            if not late:
                return
            started = time.monotonic()
            last = await self._sequence.draw(len(late))
            for offset, p in enumerate(late):
                new = last - len(late) + 1 + offset
                await self._events.update_one({"_id": p.event["_id"], "seq": p.event["seq"]}, {"$set": {"seq": new}})
                logger.warning("eventlog.renumbered id=%s seq=%d->%d", p.event["_id"], p.event["seq"], new)
                p.event["seq"] = new
            stored = late

    async def _project(self, pending: dict[int, _Pending], refused: dict[int, str], at: datetime) -> None:
        """Move the documents after their stored events, in one unordered bulk update."""
        order = sorted(pending)
        updates = []
        for i in order:
            p = pending[i]
            fields = storable(p.move.changes)
            updates.append(UpdateOne(
                {"_id": p.move.conversation_id, "version": p.before["version"]},
                {"$set": {"state": p.move.target.value, "version": int(p.before["version"]) + 1, "updated_at": at,
                          **fields}}))
        try:
            await self._conversations.bulk_write(updates, ordered=False)
        except BulkWriteError as err:
            # The events are stored (the truth); a projection that failed is replayed by
            # ``MongoConversationStore.reconcile`` (the same as a crash between the two writes).
            for e in err.details.get("writeErrors", []):
                i = order[int(e["index"])]
                logger.warning("storage.batch.projection_failed id=%s code=%s", pending[i].move.conversation_id,
                               e.get("code"))
                pending.pop(i)
                refused[i] = "unavailable"


def _event_of(move: Move, doc: Document, at: datetime) -> Document:
    """The event document of ``move`` on the conversation as stored in ``doc`` (raises ``HubError``)."""
    conversation = conversation_from_doc(doc)
    if conversation.state is not move.source:
        raise IllegalTransition(f"conversation {conversation.id} is {conversation.state}, not {move.source}")
    event_type = check_event(move.event_type, conversation.state, move.target)
    changes: dict[str, Any] = dict(move.changes)
    unknown = set(changes) - MUTABLE_FIELDS
    if unknown:
        raise ValueError(f"transition cannot change {sorted(unknown)}")
    event = ConversationEvent(
        conversation_id=conversation.id, version=conversation.version + 1, type=event_type,
        from_state=conversation.state, to_state=move.target, at=at, channel=conversation.channel,
        queue=changes.get("queue", conversation.queue), agent_id=changes.get("agent_id", conversation.agent_id),
        actor=move.actor, detail=move.detail,
    )
    return event_to_doc(event, changes)
