"""The missed-offers rule at work: a durable consumer of the event table that sets away (paused,
reason ``missed_offers``) an available agent who let ``limit`` offers in a row time out
(``hub.domain.missed_offers`` decides; ADR 0041).

A durable consumer rather than a live-bus subscriber: every process receives every live fact, so a
subscriber would count each timeout once per process; the consumer runs in one process at a time
(its lease) and misses no event. Its streaks live in memory: a process that takes the lease over
starts counting from where the checkpoint is, with empty streaks (at worst one more miss before the
rule acts). Events older than ``max_age`` are passed over, as a new hub replays the whole table.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from hub.agent_states import AgentStates
from hub.clock import Clock
from hub.domain.ids import AgentStatus
from hub.domain.missed_offers import MissedOffers, step
from hub.domain.stream import StoredEvent
from hub.errors import NotFound
from hub.ports import Directory

logger = logging.getLogger(__name__)


class MissedOffersRule:
    """``hub.consumers.DurableConsumer`` named ``missed_offers``."""

    name = "missed_offers"

    def __init__(self, *, states: AgentStates, directory: Directory, clock: Clock, limit: int, reason: str,
                 max_age: timedelta = timedelta(minutes=10)) -> None:
        self._states = states
        self._directory = directory
        self._clock = clock
        self._limit = limit
        self._reason = reason
        self._max_age = max_age
        self._seen = MissedOffers()

    async def handle(self, batch: Sequence[StoredEvent]) -> None:
        oldest = self._clock.now() - self._max_age
        for event in batch:
            if event.at < oldest:
                continue
            self._seen = step(self._seen, event, limit=self._limit)
            for agent_id in self._seen.away:
                await self._set_away(agent_id)

    async def _set_away(self, agent_id: str) -> None:
        """Only an agent still available: one who paused or logged off meanwhile keeps her choice."""
        try:
            agent = await self._directory.agent(agent_id)
        except NotFound:
            return
        if agent.status is not AgentStatus.AVAILABLE or agent.disabled:
            return
        await self._states.change(agent.id, AgentStatus.PAUSED, self._reason, by_hub=True)
        logger.info("agents.missed_offers.paused agent=%s limit=%d", agent.id, self._limit)

    async def reset(self) -> None:
        """Nothing built to drop: the streaks start again empty."""
        self._seen = MissedOffers()
