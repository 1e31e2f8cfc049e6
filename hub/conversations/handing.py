"""Handing a conversation on (issue 16 item 2): a transfer to a queue or to a named agent with a
note, never offered straight back to the agent who transferred it; a pick by hand; a reopen.

A transfer stores the note first (a private message of the sender: notes are for whoever the
conversation is routed to, ``hub.domain.visibility``), then the ``transferred`` transition, frees
the sender's seat and, for a named agent, offers it to her at once (``routing.by_hand.ByHand``).
When she cannot take it at that moment (away, full) it waits in its queue like any transfer. In
every case the sender is among the agents routing skips for it (``reoffer_after_s``).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any, Protocol

from hub.conversations.core import ConversationCore
from hub.conversations.outgoing import Outgoing
from hub.conversations.transitions import Transitions
from hub.domain.calls import VOICE
from hub.domain.events import EventType, MessageStored
from hub.domain.ids import Author, DeliveryStatus, MessageId, Role, new_id
from hub.domain.model import Agent, Conversation, Message, Queue
from hub.domain.states import ConversationState
from hub.domain.text import require_valid_text
from hub.domain.visibility import SERVES
from hub.errors import Forbidden, IllegalTransition, InvalidInput, NotFound
from hub.ports import Directory
from hub.wire import message_json

logger = logging.getLogger(__name__)

S = ConversationState
SUPERVISING = frozenset({Role.SUPERVISOR, Role.ADMIN})
MAX_NOTE = 2_000


class Hands(Protocol):
    """``routing.by_hand.ByHand``."""

    async def pick(self, agent: Agent, conversation_id: str) -> Conversation: ...

    async def offer_to(self, queued: Conversation, agent_id: str, *, skip: Collection[str]) -> str: ...


class Queueing(Protocol):
    """``routing.service.RoutingService`` as a transfer needs it."""

    async def enqueue(self, conversation: Conversation, *, skip: Collection[str] = ()) -> None: ...

    async def release(self, conversation: Conversation) -> None: ...


class HandOn:
    def __init__(self, core: ConversationCore, transitions: Transitions, outgoing: Outgoing, *,
                 directory: Directory, router: Queueing, hands: Hands) -> None:
        self._core = core
        self._transitions = transitions
        self._outgoing = outgoing
        self._directory = directory
        self._router = router
        self._hands = hands

    async def pick(self, agent: Agent, conversation_id: str) -> Conversation:
        return await self._hands.pick(agent, conversation_id)

    async def transfer(self, agent: Agent, conversation_id: str, *, queue_id: str | None, to_agent: str | None,
                       note: str | None) -> tuple[Conversation, str | None]:
        """Returns the conversation after the transfer and the agent it was offered to (None: it
        waits in its queue)."""
        note = (note or "").strip()
        if len(note) > MAX_NOTE:
            raise InvalidInput(f"a note has at most {MAX_NOTE} characters")
        require_valid_text("note", note)
        conversation = await self._core.conversations.get(conversation_id)
        if conversation.agent_id != agent.id and agent.role not in SUPERVISING:
            raise Forbidden("only the agent holding the conversation can do this")
        if conversation.state is not S.ASSIGNED:
            raise IllegalTransition(f"only a conversation in progress is transferred (it is {conversation.state})")
        if to_agent and conversation.channel == VOICE:
            raise IllegalTransition("a call is transferred from the call panel (to a queue): it moves the caller too")
        queue = await self._queue(queue_id or conversation.queue)
        target = await self._receiver(to_agent, conversation, queue) if to_agent else None
        if note:
            await self._note(agent, conversation, note)
        sender = conversation.agent_id
        detail = {"from_queue": conversation.queue or "", "to_queue": queue.id, "from_agent": sender or ""}
        transfer: dict[str, Any] = {"from_agent": sender, "by": agent.id, "by_name": agent.display_name,
                                    "to_agent": target.id if target else None, "note": bool(note),
                                    "at": self._core.clock.now()}
        if target:
            detail["to_agent"] = target.id
        moved = await self._transitions.transition(
            conversation, S.QUEUED, EventType.TRANSFERRED, actor=agent.id,
            changes={"queue": queue.id, "skills": queue.skills, "priority": queue.priority, "agent_id": None,
                     "queued_at": self._core.clock.now(), "transfer": transfer}, detail=detail)
        await self._router.release(conversation)
        skip = {sender} if sender else set()
        outcome = await self._hands.offer_to(moved, target.id, skip=skip) if target else None
        if outcome != "ok":
            await self._router.enqueue(moved, skip=skip)
        logger.info("conversation.transfer id=%s to_queue=%s named=%s offered=%s", moved.id, queue.id,
                    bool(target), outcome == "ok")
        return await self._core.conversations.get(moved.id), (target.id if target and outcome == "ok" else None)

    async def reopen(self, agent: Agent, conversation_id: str) -> Conversation:
        """A resolved conversation back into its queue (``reopened``), for routing or a pick."""
        conversation = await self._core.conversations.get(conversation_id)
        if conversation.state is not S.RESOLVED:
            raise IllegalTransition(f"only a resolved conversation is reopened (it is {conversation.state})")
        queue = await self._queue(conversation.queue) if conversation.queue else None
        changes: dict[str, Any] = {"agent_id": None, "queued_at": self._core.clock.now()}
        if queue is not None:
            changes.update({"queue": queue.id, "skills": queue.skills, "priority": queue.priority})
        else:
            raise IllegalTransition("the conversation never reached a queue (the bot resolved it): nothing to reopen")
        moved = await self._transitions.transition(conversation, S.QUEUED, EventType.REOPENED, actor=agent.id,
                                                   changes=changes, detail={"from_state": conversation.state.value})
        await self._router.enqueue(moved)
        return moved

    async def _queue(self, queue_id: str | None) -> Queue:
        if not queue_id:
            raise InvalidInput("name the queue")
        try:
            return await self._directory.queue(queue_id)
        except NotFound:
            raise InvalidInput(f"no queue {queue_id[:64]!r}") from None

    async def _receiver(self, agent_id: str, conversation: Conversation, queue: Queue) -> Agent:
        if agent_id == conversation.agent_id:
            raise InvalidInput("the conversation is with that agent already")
        try:
            target = await self._directory.agent(agent_id)
        except NotFound:
            raise InvalidInput(f"no agent {agent_id[:64]!r}") from None
        if target.role not in SERVES or target.disabled:
            raise InvalidInput(f"{target.display_name} does not take conversations")
        if not queue.skills <= target.skills:
            raise InvalidInput(f"{target.display_name} lacks a skill of the queue {queue.id}")
        return target

    async def _note(self, agent: Agent, conversation: Conversation, note: str) -> None:
        message = await self._outgoing.store(Message(
            id=MessageId(new_id("m")), conversation_id=conversation.id, channel=conversation.channel,
            author=Author.AGENT, author_id=agent.id, author_name=agent.display_name, text=note,
            sent_at=self._core.clock.now(), status=DeliveryStatus.SENT, private=True, address=None))
        await self._core.tell(MessageStored(conversation_id=conversation.id, holder=conversation.agent_id,
                                            message=message_json(message, live=self._core.live)))
