"""Snooze at work (issue 16 item 2, ADR 0049): an agent sets a conversation she holds aside until a
time; it wakes then, or at once when the customer writes.

Durable by stored state, like the work orders' SLA timers: the due time (``snoozed_until``), when
it was snoozed (``snoozed_at``) and the customer's last message time (``last_customer_at``, kept by
the summary writer) are on the conversation, and ``SnoozeSweep`` (one process at a time, a lease)
wakes what ``hub.domain.snooze.wake_reason`` says is due, every ``poll_s`` or at the next due time.
A hub that was down when a snooze fell due wakes it on its first round. The live facts only make
it prompt: a customer message of a conversation the sweep knows as snoozed wakes it at once, and a
new snooze tells the sweep its due time. Both are events of the conversation (``snoozed``,
``woken``) on the edge ``assigned -> assigned``: it stays hers, in her capacity, all along.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from hub.conversations.core import ConversationCore
from hub.conversations.transitions import Transitions
from hub.domain.events import BusResubscribed, ConversationChanged, EventType, MessageStored
from hub.domain.ids import Author, Role
from hub.domain.model import Agent, Conversation
from hub.domain.snooze import SnoozePolicy, WakeReason, wake_reason
from hub.domain.states import ConversationState
from hub.errors import ConcurrentUpdate, Forbidden, IllegalTransition, InvalidInput, NotFound
from hub.ports import EventBus
from hub.supervisor import Health

logger = logging.getLogger(__name__)

S = ConversationState
SUPERVISING = frozenset({Role.SUPERVISOR, Role.ADMIN})


class Snoozing:
    """What the console asks: snooze a conversation she holds, wake it by hand; and the wake itself."""

    def __init__(self, core: ConversationCore, transitions: Transitions, policy: SnoozePolicy) -> None:
        self._core = core
        self._transitions = transitions
        self._policy = policy

    async def _held(self, agent: Agent, conversation_id: str) -> Conversation:
        conversation = await self._core.conversations.get(conversation_id)
        if conversation.agent_id != agent.id and agent.role not in SUPERVISING:
            raise Forbidden("only the agent holding the conversation can do this")
        if conversation.state is not S.ASSIGNED:
            raise IllegalTransition(f"only an assigned conversation can be snoozed; this one is {conversation.state}")
        return conversation

    async def snooze(self, agent: Agent, conversation_id: str, *, preset: str | None,
                     at: datetime | None) -> Conversation:
        conversation = await self._held(agent, conversation_id)
        now = self._core.clock.now()
        until = self._policy.until(now, preset=preset, at=at)
        return await self._transitions.transition(
            conversation, S.ASSIGNED, EventType.SNOOZED, actor=agent.id,
            changes={"snoozed_until": until, "snoozed_at": now}, detail={"until": until.isoformat()})

    async def wake_by_hand(self, agent: Agent, conversation_id: str) -> Conversation:
        conversation = await self._held(agent, conversation_id)
        if conversation.snoozed_until is None:
            raise InvalidInput("this conversation is not snoozed")
        return await self.wake(conversation, WakeReason.AGENT, actor=agent.id)

    async def wake(self, conversation: Conversation, reason: WakeReason, *, actor: str = "system") -> Conversation:
        return await self._transitions.transition(
            conversation, S.ASSIGNED, EventType.WOKEN, actor=actor,
            changes={"snoozed_until": None, "snoozed_at": None}, detail={"reason": reason.value})


class SnoozeSweep:
    """The supervised loop (``hub.supervisor``) under the ``snoozes`` lease; ``listen`` once per process."""

    def __init__(self, snoozing: Snoozing, core: ConversationCore, *, poll_s: float) -> None:
        self._snoozing = snoozing
        self._core = core
        self._poll_s = poll_s
        self._wake = asyncio.Event()
        self._running = False
        self._snoozed: set[str] = set()  # what the last round saw snoozed, plus snoozes since
        self._next_due: datetime | None = None

    def listen(self, bus: EventBus) -> None:
        bus.subscribe(ConversationChanged, self._on_changed, subscriber="snoozes:changed")
        bus.subscribe(MessageStored, self._on_message, subscriber="snoozes:messages")
        bus.subscribe(BusResubscribed, self._on_resubscribed, subscriber="snoozes:changed")

    async def _on_resubscribed(self, fact: BusResubscribed) -> None:
        """Facts were lost in a bus gap: a round now reads every snooze again (a customer who
        wrote meanwhile wakes hers by ``last_customer_at``)."""
        self._wake.set()

    async def _on_changed(self, fact: ConversationChanged) -> None:
        if not self._running:
            return
        if fact.event is EventType.SNOOZED:
            self._snoozed.add(fact.conversation_id)
            self._wake.set()  # the next round sleeps until its due time at the latest
        elif fact.summary.get("snoozed_until") is None:
            self._snoozed.discard(fact.conversation_id)

    async def _on_message(self, fact: MessageStored) -> None:
        if not self._running or fact.author is not Author.CUSTOMER or fact.conversation_id not in self._snoozed:
            return
        await self._wake_one(fact.conversation_id, WakeReason.CUSTOMER)

    async def run(self, health: Health) -> None:
        self._running = True
        try:
            while True:
                self._wake.clear()
                await self.sweep()
                health.up()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._sleep_s())
        finally:
            self._running = False
            self._snoozed.clear()

    def _sleep_s(self) -> float:
        if self._next_due is None:
            return self._poll_s
        ahead = (self._next_due - self._core.clock.now()).total_seconds()
        return min(self._poll_s, max(0.05, ahead))

    async def sweep(self) -> int:
        """One round: wake every snoozed conversation that is due or whose customer wrote; returns how many."""
        now, woken, pending = self._core.clock.now(), 0, set()
        self._next_due = None
        for doc in await self._core.conversations.snoozed():
            reason = wake_reason(snoozed_until=doc.get("snoozed_until"), snoozed_at=doc.get("snoozed_at"),
                                 last_customer_at=doc.get("last_customer_at"), now=now)
            if reason is None:
                pending.add(doc["_id"])
                due = doc["snoozed_until"]
                self._next_due = due if self._next_due is None else min(self._next_due, due)
            elif await self._wake_one(doc["_id"], reason):
                woken += 1
        self._snoozed = pending
        return woken

    async def _wake_one(self, conversation_id: str, reason: WakeReason) -> bool:
        try:
            conversation = await self._core.conversations.get(conversation_id)
            if conversation.state is not S.ASSIGNED or conversation.snoozed_until is None:
                return False
            await self._snoozing.wake(conversation, reason)
        except (ConcurrentUpdate, NotFound, IllegalTransition):
            return False  # moved meanwhile: the next round reads it afresh
        self._snoozed.discard(conversation_id)
        logger.info("conversations.snooze.woken id=%s reason=%s", conversation_id, reason)
        return True

