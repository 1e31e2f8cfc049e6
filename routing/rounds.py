"""The assigner at work: assignment rounds, offers and their timeouts, the sweep and the Redis rebuild.

``RoutingService`` (``routing/service.py``) is this plus the ``hub.ports.Router`` port. Rounds in
several processes may overlap: a round takes one snapshot, decides every offer it allows with
``routing.policy.plan_round`` and commits them with one Lua script (``RedisRoutingStore.claim_many``),
which re-checks each claim inside Redis, so a conversation is offered once and no agent goes over
capacity whoever decides. MongoDB records the claimed offers as conversation events, in one batch per
round (``ConversationTransitions.transition_many``), and their ``OfferMade`` facts go out together.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Protocol

from hub.clock import Clock, iso, to_ms
from hub.domain.events import EventType, Fact, OfferMade, OfferWithdrawn, RoutingKicked
from hub.domain.ids import AgentId, AgentStatus, ConversationId
from hub.domain.model import Conversation
from hub.domain.moves import Move
from hub.domain.states import HELD_BY_AGENT, ConversationState
from hub.errors import ConcurrentUpdate, IllegalTransition
from hub.ports import ConversationTransitions, EventBus
from hub.supervisor import Backoff, Health
from routing.policy import PlannedOffer, WaitingConversation, plan_round
from routing.queue_ids import KnownQueues, QueueNames
from routing.store import Claim, RedisRoutingStore

logger = logging.getLogger(__name__)

S = ConversationState
ROUND_LIMIT_PER_QUEUE = 200
ROUND_PASSES = 3  # decisions of one round taken again after another process changed an agent
# Offers claimed and stored together: one claim script call, one MongoDB batch and their facts. A
# round's plan goes out in batches of this size, so its first offers do not wait for its last ones.
OFFERS_PER_BATCH = 50
SWEEP_EVERY_S = 30.0
QUEUES_REREAD_S = 10.0  # the queue list the rounds look at is read again after this (routing.queue_ids)
ROUND_RETRY_MAX_S = 2.0  # the longest wait after failed rounds (Redis away): catch up soon after it is back


class ConversationReader(Protocol):
    async def get(self, conversation_id: str) -> Conversation: ...

    async def in_states(self, states: frozenset[ConversationState]) -> list[Conversation]: ...

    async def queued_since(self, before: datetime, limit: int) -> list[Conversation]: ...

    async def reconcile(self) -> int: ...


def waiting_of(conversation: Conversation, *, skip: Collection[str] = (),
               now: datetime | None = None) -> WaitingConversation:
    """``skip``: agents counted as having declined it at ``now`` (routing passes them over for a while)."""
    queued_at = conversation.queued_at or conversation.updated_at
    at = to_ms(now or queued_at)
    return WaitingConversation(conversation_id=conversation.id, channel=conversation.channel,
                               skills=conversation.skills, priority=conversation.priority,
                               queued_ms=to_ms(queued_at), declined_by={AgentId(a): at for a in skip})


class Assigner:
    """The assigner loop and what it shares with the ``Router`` port (``routing.service.RoutingService``):
    ``run(health)`` is the loop, for the supervisor."""

    def __init__(self, *, store: RedisRoutingStore, conversations: ConversationReader, directory: QueueNames,
                 bus: EventBus, clock: Clock, offer_timeout_s: float, presence_ttl_s: float,
                 tick_s: float, reoffer_after_s: float, sweep_s: float = SWEEP_EVERY_S,
                 queues_reread_s: float = QUEUES_REREAD_S) -> None:
        self._store = store
        self._conversations = conversations
        self._directory = directory
        self.known_queues = KnownQueues(directory, reread_s=queues_reread_s)  # the rounds' queue ids (ADR 0051)
        self._bus = bus
        self._clock = clock
        self._offer_timeout = timedelta(seconds=offer_timeout_s)
        self._presence_ttl_ms = int(presence_ttl_s * 1000)
        self._reoffer_after_ms = int(reoffer_after_s * 1000)
        self._tick_s = tick_s
        self._sweep_s = sweep_s
        self._kick = asyncio.Event()
        self._transitions: ConversationTransitions | None = None
        self._process_id = secrets.token_hex(4)
        self._next_sweep = 0.0  # event loop time of the next sweep (the first step sweeps)

    def attach(self, transitions: ConversationTransitions) -> None:
        """Wiring: the conversation core and the router need each other (set once at bootstrap)."""
        self._transitions = transitions

    @property
    def _t(self) -> ConversationTransitions:
        assert self._transitions is not None, "RoutingService.attach() was not called"
        return self._transitions

    def kick(self) -> None:
        """Wake the assigner now (new work or a freed agent) instead of at the next tick."""
        self._kick.set()

    async def _announce(self) -> None:
        self.kick()
        await self._tell(RoutingKicked())

    async def _tell(self, fact: Fact) -> None:
        """Publish a fact already stored: a Redis hiccup must not undo a claim or an offer
        (the console reloads its inbox on reconnect; an unseen offer times out and is re-offered)."""
        try:
            await self._bus.publish(fact)
        except Exception:
            logger.warning("bus.publish.failed kind=%s", fact.KIND, exc_info=True)

    async def _requeue_offer(self, conversation: Conversation, expected_agent: str, reason: EventType) -> Conversation:
        released = await self._store.release_offer(conversation.id, expected_agent, now_ms=to_ms(self._clock.now()))
        if released is None:
            raise IllegalTransition("the offer was already accepted, declined or expired")
        moved = await self._t.transition(conversation, S.QUEUED, reason, actor=expected_agent or "system",
                                         changes={"agent_id": None}, detail={"agent_id": released})
        await self._tell(OfferWithdrawn(conversation_id=conversation.id, agent_id=AgentId(released)))
        await self._announce()
        return moved

    # -- the assigner ---------------------------------------------------------------------------
    @property
    def backoff(self) -> Backoff:
        """Between failed rounds (``hub.supervisor``): never much longer than a few ticks."""
        return Backoff(first_s=self._tick_s, max_s=max(self._tick_s, ROUND_RETRY_MAX_S))

    async def run(self, health: Health) -> None:
        """The assigner, under ``hub.supervisor.Supervisor`` (``routing:assigner``): loop until
        cancelled, one ``step`` per tick or kick. A failed round raises to the supervisor, which logs
        it and starts the loop again after its backoff."""
        while True:
            await self.step()
            health.up()
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
            # arrives as its inner wait completes, and the loop would never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._tick_s):
                    await self._kick.wait()
            self._kick.clear()

    async def step(self) -> bool:
        """One turn of the assigner: rebuild if Redis lost its state, sweep (every ``sweep_s``),
        expire offers, assign. Nothing while another process rebuilds the state (returns False):
        its rebuild starts by clearing every routing key, so what this process enqueued, claimed or
        offered meanwhile would be dropped from Redis while MongoDB kept it."""
        if await self._store.epoch() is None and not await self.ensure_state():
            return False
        loop = asyncio.get_running_loop()
        if loop.time() >= self._next_sweep:
            await self.sweep()
            self._next_sweep = loop.time() + self._sweep_s
        await self.expire_offers()
        await self.assign_round()
        return True

    async def assign_round(self) -> int:
        """Offer as much waiting work as agents can take now; returns the number of offers made.

        One snapshot, every decision (``plan_round``), one claim script for them all, one batch of
        MongoDB writes for the claimed ones, then their facts. When a claim fails because another
        process changed an agent meanwhile, the round decides again on a fresh snapshot (at most
        ``ROUND_PASSES`` times)."""
        offers = 0
        for _ in range(ROUND_PASSES):
            made, contested = await self._one_pass()
            offers += made
            if not contested:
                break
        return offers

    async def _one_pass(self) -> tuple[int, bool]:
        """One snapshot's offers; returns how many were made and whether an agent was contested."""
        agents = await self._store.agents()
        if not any(a.status is AgentStatus.AVAILABLE for a in agents):
            return 0, False
        work: list[tuple[WaitingConversation, str]] = []
        for queue_id in await self.known_queues.ids():
            work.extend((w, queue_id) for w in await self._store.waiting(queue_id, ROUND_LIMIT_PER_QUEUE))
        now = self._clock.now()
        planned = plan_round(agents, work, now_ms=to_ms(now), presence_ttl_ms=self._presence_ttl_ms,
                             reoffer_after_ms=self._reoffer_after_ms)
        made, contested = 0, False
        for first in range(0, len(planned), OFFERS_PER_BATCH):  # the first offers go out while the rest wait
            batch = planned[first:first + OFFERS_PER_BATCH]
            now = self._clock.now()
            expires = now + self._offer_timeout
            outcomes = await self._store.claim_many(
                [Claim(conversation_id=p.work.conversation_id, queue=p.queue, agent_id=p.agent_id,
                       channel=p.work.channel, expires_ms=to_ms(expires)) for p in batch],
                now_ms=to_ms(now), presence_ttl_ms=self._presence_ttl_ms)
            claimed = [p for p, outcome in zip(batch, outcomes, strict=True) if outcome == "ok"]
            contested = contested or any(outcome.startswith("agent_") for outcome in outcomes)
            made += await self._record_offers(claimed, expires, now) if claimed else 0
        return made, contested

    async def _record_offers(self, claimed: list[PlannedOffer], expires: datetime, now: datetime) -> int:
        """Store the claimed offers' transitions in one batch, then publish their facts together; a
        conversation that moved on meanwhile (resolved, transferred) gets its claim undone alone."""
        moves = [Move(conversation_id=ConversationId(p.work.conversation_id), source=S.QUEUED, target=S.OFFERED,
                      event_type=EventType.OFFERED, actor="routing", changes={"agent_id": p.agent_id})
                 for p in claimed]
        outcomes = await self._t.transition_many(moves)
        made = 0
        for planned, outcome in zip(claimed, outcomes, strict=True):
            cid = planned.work.conversation_id
            if outcome.found is S.OFFERED:
                # A decline or timeout of its last offer in flight: Redis put it back in line first
                # and MongoDB follows in a moment (``_requeue_offer``). Put the claim back unseen.
                logger.info("routing.offer.deferred id=%s", cid)
                await self._store.release_offer(cid, planned.agent_id, now_ms=to_ms(now), declined=False)
                continue
            if outcome.moved is None:
                logger.warning("routing.offer.stale id=%s reason=%s", cid, outcome.refused)
                await self._store.release_offer(cid, planned.agent_id, now_ms=to_ms(now))
                await self._store.dequeue(cid)
                continue
            await self._tell(OfferMade(conversation_id=outcome.moved.id, agent_id=AgentId(planned.agent_id),
                                       expires_at=expires))
            logger.info("routing.offered id=%s agent=%s queue=%s", cid, planned.agent_id, planned.queue)
            made += 1
        return made

    async def expire_offers(self) -> int:
        expired = await self._store.expired_offers(to_ms(self._clock.now()))
        for conversation_id in expired:
            try:
                conversation = await self._conversations.get(conversation_id)
                await self._requeue_offer(conversation, conversation.agent_id or "", EventType.OFFER_TIMED_OUT)
            except (IllegalTransition, ConcurrentUpdate):
                continue  # another process expired it first
        return len(expired)

    async def sweep(self, now: datetime | None = None) -> int:
        """Put back in line what MongoDB says is queued but Redis lost (an enqueue that failed
        while Redis was briefly unreachable). Only conversations queued a while ago are looked at,
        so one being enqueued right now is not enqueued twice."""
        settled = (now or self._clock.now()) - timedelta(seconds=self._sweep_s / 2)
        queued = {c.id: (c, c.queue) for c in await self._conversations.queued_since(settled, limit=1000) if c.queue}
        lost = await self._store.missing([(cid, queue) for cid, (_, queue) in queued.items()])
        for cid in lost:
            conversation, queue = queued[ConversationId(cid)]
            self.known_queues.add(queue)
            await self._store.enqueue(waiting_of(conversation), queue)
        if lost:
            logger.warning("routing.sweep.requeued conversations=%d", len(lost))
            await self._announce()
        return len(lost)

    # -- rebuild --------------------------------------------------------------------------------
    async def ensure_state(self) -> bool:
        """Rebuild Redis from MongoDB when its state is missing; True when this process rebuilt it."""
        if await self._store.epoch() is not None or not await self._store.begin_rebuild(self._process_id):
            return False
        await self._conversations.reconcile()
        await self._store.clear()
        rebuilt = 0
        for conversation in await self._conversations.in_states(
                frozenset({S.QUEUED, S.OFFERED}) | HELD_BY_AGENT):
            await self._restore(conversation)
            rebuilt += 1
        await self._store.finish_rebuild(f"{self._process_id}:{iso(self._clock.now())}")
        logger.warning("routing.rebuilt conversations=%d", rebuilt)
        return True

    async def _restore(self, conversation: Conversation) -> None:
        if conversation.state in HELD_BY_AGENT and conversation.agent_id:
            await self._store.hold(conversation.id, conversation.agent_id, conversation.channel)
            return
        if conversation.state is S.OFFERED:
            # The offer's timer lived in Redis: put the conversation back in line.
            conversation = await self._t.transition(conversation, S.QUEUED, EventType.OFFER_LOST, actor="routing",
                                                    changes={"agent_id": None})
        if conversation.queue:
            self.known_queues.add(conversation.queue)
            await self._store.enqueue(waiting_of(conversation), conversation.queue)

