"""The ACD's ``hub.ports.Router`` port: queueing, presence, accepting and declining offers, the overview.

Each hub process runs one ``RoutingService``: this port over the assigner (``routing/rounds.py``:
assignment rounds, offers and their timeouts, the sweep and the Redis rebuild).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from redis.exceptions import RedisError

from hub.clock import to_ms
from hub.domain.events import BusResubscribed, EventType, OfferWithdrawn, PresenceChanged, RoutingKicked
from hub.domain.ids import AgentStatus, Skill
from hub.domain.model import Agent, Conversation
from hub.errors import IllegalTransition, NotFound
from hub.ports import EventBus
from routing.policy import VOICE
from routing.rounds import Assigner, S, waiting_of


class RoutingService(Assigner):
    """Implements ``hub.ports.Router``; ``run(health)`` (``Assigner``) is the assigner loop, for the supervisor."""

    quiet: tuple[type[BaseException], ...] = (RedisError,)  # failed rounds logged as one line

    def listen(self, bus: EventBus) -> None:
        """Wiring: another process's kick wakes this assigner too, and so does a gap in the bus
        (a kick may have been lost in it)."""
        bus.subscribe(RoutingKicked, self._on_kick, subscriber="routing:kick")
        bus.subscribe(BusResubscribed, self._on_kick, subscriber="routing:kick")

    async def _on_kick(self, fact: RoutingKicked | BusResubscribed) -> None:
        self.kick()

    # -- Router port ----------------------------------------------------------------------------
    async def enqueue(self, conversation: Conversation, *, skip: Collection[str] = ()) -> None:
        if conversation.queue is None:
            raise NotFound(f"conversation {conversation.id} has no queue")
        self.known_queues.add(conversation.queue)
        await self._store.enqueue(waiting_of(conversation, skip=skip, now=self._clock.now()), conversation.queue)
        await self._announce()

    async def release(self, conversation: Conversation) -> None:
        if await self._store.release_held(conversation.id):
            await self._announce()

    async def withdraw(self, conversation: Conversation) -> None:
        await self._store.dequeue(conversation.id)

    # -- agents ---------------------------------------------------------------------------------
    async def set_presence(self, agent: Agent, status: AgentStatus) -> None:
        await self._store.put_presence(agent.id, status=status, skills=agent.skills, capacity=agent.capacity,
                                       now_ms=to_ms(self._clock.now()))
        reason = agent.pause_reason if status is AgentStatus.PAUSED else None
        await self._tell(PresenceChanged(agent_id=agent.id, status=status, reason=reason))
        if status is AgentStatus.AVAILABLE:
            await self._announce()

    async def refit(self, agent: Agent) -> None:
        """Routing takes an agent's changed skills and capacities at once (when she is present)."""
        if await self._store.refit(agent.id, skills=agent.skills, capacity=agent.capacity):
            await self._announce()

    async def heartbeat(self, agent: Agent) -> None:
        if not await self._store.heartbeat(agent.id, to_ms(self._clock.now())):
            await self.set_presence(agent, agent.status)

    async def accept(self, agent: Agent, conversation_id: str) -> Conversation:
        conversation = await self._conversations.get(conversation_id)
        if conversation.state is not S.OFFERED or conversation.agent_id != agent.id:
            raise IllegalTransition("there is no offer of this conversation to you")
        if not await self._store.accept(conversation_id, agent.id):
            raise IllegalTransition("the offer expired or was withdrawn")
        return await self._t.transition(conversation, S.ASSIGNED, EventType.ASSIGNED, actor=agent.id)

    async def offer_of(self, conversation_id: str) -> Any:
        return await self._store.offer_of(conversation_id)

    async def decline(self, agent: Agent, conversation_id: str) -> Conversation:
        conversation = await self._conversations.get(conversation_id)
        if conversation.state is not S.OFFERED or conversation.agent_id != agent.id:
            raise IllegalTransition("there is no offer of this conversation to you")
        return await self._requeue_offer(conversation, agent.id, EventType.DECLINED)

    async def not_answered(self, agent: Agent, conversation_id: str) -> Conversation:
        """The agent's phone rang out or refused the call: back in line for the next agent, as an
        offer that timed out (her seat is skipped for ``reoffer_after_s``)."""
        conversation = await self._conversations.get(conversation_id)
        if conversation.state is not S.OFFERED or conversation.agent_id != agent.id:
            raise IllegalTransition("there is no offer of this conversation to you")
        return await self._requeue_offer(conversation, agent.id, EventType.OFFER_TIMED_OUT)

    async def abandon(self, conversation: Conversation) -> None:
        """The customer left while waiting (``abandoned``): forget the conversation's place and any
        offer of it, so its agent's seat is free again. Idempotent."""
        if conversation.state is S.OFFERED:
            agent = await self._store.release_offer(conversation.id, "", now_ms=to_ms(self._clock.now()))
            if agent is not None:
                await self._tell(OfferWithdrawn(conversation_id=conversation.id, agent_id=agent))
        await self._store.dequeue(conversation.id)
        await self._announce()

    async def position(self, queue: str, conversation_id: str) -> int | None:
        """Where a conversation waits in its queue (1: next), None when not waiting (``hub.ports.Waits``)."""
        return await self._store.position(queue, conversation_id)

    async def staffed(self, skills: frozenset[Skill]) -> bool:
        """Whether an agent with ``skills`` is available now, presence fresh (``hub.ports.Waits``)."""
        now_ms = to_ms(self._clock.now())
        return any(a.status is AgentStatus.AVAILABLE and skills <= a.skills
                   and now_ms - a.heartbeat_ms <= self._presence_ttl_ms for a in await self._store.agents())

    async def on_a_call(self, agent: Agent) -> bool:
        """Whether the agent holds a call now (her voice load), as routing counts it."""
        mine = next((a for a in await self._store.agents() if a.agent_id == agent.id), None)
        return mine is not None and mine.load_on(VOICE) > 0

    async def hold_outbound(self, conversation: Conversation) -> None:
        """An agent's own outbound call counts in her load (no chat is offered to her meanwhile) until
        it is resolved or transferred, like assigned work."""
        if conversation.agent_id is None:
            raise IllegalTransition("an outbound call needs its agent")
        await self._store.hold(conversation.id, conversation.agent_id, conversation.channel)

    async def overview(self) -> dict[str, Any]:
        """Live queues and agents for the supervisor page (docs/api.md, ``Overview``)."""
        now_ms = to_ms(self._clock.now())
        queues = await self._directory.queues()
        stats = await self._store.queue_stats(q.id for q in queues)
        offered = await self._store.offers_per_queue()
        snapshots = {a.agent_id: a for a in await self._store.agents()}
        def longest_wait_s(queue_id: str) -> float:
            oldest = stats[queue_id][1]
            return (now_ms - oldest) / 1000 if oldest is not None else 0.0

        return {
            "queues": [{"id": q.id, "name": q.name, "waiting": stats[q.id][0], "offered": offered.get(q.id, 0),
                        "longest_wait_s": longest_wait_s(q.id)} for q in queues],
            "agents": {aid: {"status": a.status.value, "load": dict(a.load), "capacity": dict(a.capacity),
                             "online": now_ms - a.heartbeat_ms <= self._presence_ttl_ms}
                       for aid, a in snapshots.items()},
        }
