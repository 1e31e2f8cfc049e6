"""Taking and handing on by hand (issue 16 item 2): an agent picks a queued conversation herself, or
an agent transfers hers to a named colleague.

Both go through Redis first, atomically, exactly as routing's rounds do (``routing.store``): a pick
is one ``CLAIM_MANY`` claim for the picking agent, so of two agents racing for one conversation
only one gets it, never both, and never above her capacity; a named transfer is one ``OFFER_TO``
(the same agent checks, the offer made at once). MongoDB then records the ``offered`` (and, for a
pick, ``assigned``) transitions as a round's offers are recorded, with the same facts.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import timedelta

from hub.clock import Clock, to_ms
from hub.domain.calls import VOICE
from hub.domain.events import EventType, Fact, OfferMade
from hub.domain.ids import AgentId
from hub.domain.model import Agent, Conversation
from hub.domain.states import ConversationState
from hub.domain.visibility import SERVES
from hub.errors import ConcurrentUpdate, Forbidden, IllegalTransition
from hub.ports import ConversationTransitions, EventBus
from routing.rounds import ConversationReader, waiting_of
from routing.store import Claim, RedisRoutingStore

logger = logging.getLogger(__name__)

S = ConversationState
HOLDING = frozenset({S.OFFERED, S.ASSIGNED, S.WRAP_UP})
REFUSALS = {
    "gone": "another agent took this conversation first",
    "agent_unfit": "your console is not connected (or you are offline): reload it",
    "agent_full": "you are at capacity on this channel: finish a conversation first",
}


class ByHand:
    def __init__(self, *, store: RedisRoutingStore, conversations: ConversationReader,
                 transitions: ConversationTransitions, bus: EventBus, clock: Clock, offer_timeout_s: float,
                 presence_ttl_s: float) -> None:
        self._store = store
        self._conversations = conversations
        self._t = transitions
        self._bus = bus
        self._clock = clock
        self._offer_timeout = timedelta(seconds=offer_timeout_s)
        self._presence_ttl_ms = int(presence_ttl_s * 1000)

    async def pick(self, agent: Agent, conversation_id: str) -> Conversation:
        """``agent`` takes a queued conversation herself: assigned to her, or IllegalTransition (409)
        saying why not (taken by another, she is not available, she is full); Forbidden (403)
        without a skill it needs."""
        conversation = await self._conversations.get(conversation_id)
        if agent.role not in SERVES:
            raise Forbidden("only agents and team leaders take conversations")
        if conversation.state in HOLDING and conversation.agent_id != agent.id:
            raise IllegalTransition(REFUSALS["gone"])  # the other agent's claim was recorded first
        if conversation.state is not S.QUEUED or conversation.queue is None:
            raise IllegalTransition(f"the conversation is not waiting in a queue (it is {conversation.state})")
        if not conversation.skills <= agent.skills:
            raise Forbidden("you lack a skill this conversation needs")
        if conversation.channel == VOICE:
            raise IllegalTransition("a call is offered to your phone by routing, not taken by hand")
        now = self._clock.now()
        claim = Claim(conversation_id=conversation.id, queue=conversation.queue, agent_id=agent.id,
                      channel=conversation.channel, expires_ms=to_ms(now + self._offer_timeout))
        [outcome] = await self._store.claim_many([claim], now_ms=to_ms(now), presence_ttl_ms=self._presence_ttl_ms,
                                                 by_hand=True)
        if outcome != "ok":
            raise IllegalTransition(REFUSALS.get(outcome, outcome))
        try:
            offered = await self._t.transition(conversation, S.OFFERED, EventType.OFFERED, actor=agent.id,
                                               changes={"agent_id": agent.id}, detail={"by_hand": "picked"})
        except (IllegalTransition, ConcurrentUpdate):  # resolved or abandoned meanwhile: undo the claim
            await self._store.release_offer(conversation.id, agent.id, now_ms=to_ms(now), declined=False)
            if (await self._conversations.get(conversation.id)).state is not S.QUEUED:
                await self._store.dequeue(conversation.id)
            raise IllegalTransition("the conversation changed meanwhile; look again") from None
        if not await self._store.accept(conversation.id, agent.id):
            raise IllegalTransition("the claim expired before it was recorded")  # the timeout sweep re-queues it
        logger.info("routing.picked id=%s agent=%s", conversation.id, agent.id)
        return await self._t.transition(offered, S.ASSIGNED, EventType.ASSIGNED, actor=agent.id,
                                        detail={"by_hand": "picked"})

    async def offer_to(self, queued: Conversation, agent_id: str, *, skip: Collection[str]) -> str:
        """Offer a just-transferred (queued) conversation to one named agent at once. Returns
        ``ok``, or why not (``agent_unfit``, ``agent_full``, ``gone``): then the caller puts it in
        line as any transfer. ``skip``: agents routing must not offer it to afterwards (the sender)."""
        if queued.queue is None:
            return "gone"
        now = self._clock.now()
        expires = now + self._offer_timeout
        work = waiting_of(queued, skip=skip, now=now)
        outcome = await self._store.offer_to(work, queued.queue, agent_id, expires_ms=to_ms(expires),
                                             now_ms=to_ms(now), presence_ttl_ms=self._presence_ttl_ms)
        if outcome != "ok":
            return outcome
        try:
            offered = await self._t.transition(queued, S.OFFERED, EventType.OFFERED, actor="routing",
                                               changes={"agent_id": agent_id}, detail={"by_hand": "transfer"})
        except (IllegalTransition, ConcurrentUpdate):
            await self._store.release_offer(queued.id, agent_id, now_ms=to_ms(now), declined=False)
            return "gone"
        await self._tell(OfferMade(conversation_id=offered.id, agent_id=AgentId(agent_id), expires_at=expires))
        return "ok"

    async def _tell(self, fact: Fact) -> None:
        try:
            await self._bus.publish(fact)
        except Exception:
            logger.warning("bus.publish.failed kind=%s", fact.KIND, exc_info=True)
