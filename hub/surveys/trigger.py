"""The survey trigger: a durable consumer of the event table that offers each resolved
conversation's survey, and closes a call's survey answered before its resolve.

At least once, like every durable consumer: ``SurveyService.offer`` inserts the survey keyed by
the conversation and asks only while it is not marked asked, so a batch read again asks nobody
twice (a crash between sending and marking may ask once more: the one case of a repeat).
Events older than ``max_age`` are passed over, so a new hub (or a rebuild) does not survey the
whole history.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta

from hub.domain.stream import StoredEvent
from hub.domain.surveys import should_offer
from hub.errors import NotFound
from hub.surveys.service import SurveyService

logger = logging.getLogger(__name__)


class SurveyTrigger:
    """``hub.consumers.DurableConsumer`` named ``surveys``."""

    name = "surveys"

    def __init__(self, service: SurveyService, *, enabled: bool, channels: Mapping[str, bool],
                 max_age: timedelta) -> None:
        self._service = service
        self._enabled = enabled
        self._channels = channels
        self._max_age = max_age

    async def handle(self, batch: Sequence[StoredEvent]) -> None:
        oldest = self._service.clock.now() - self._max_age
        for event in batch:
            if event.type != "resolved" or event.at < oldest:
                continue
            if event.channel == "voice":  # asked by the call's survey step; its answer may be waiting
                await self._service.settle(event.conversation_id)
                continue
            if not should_offer(event_type=event.type, from_state=event.from_state, agent_id=event.agent_id,
                                channel=event.channel, enabled=self._enabled, channels=self._channels):
                continue
            try:
                conversation = await self._service.conversation(event.conversation_id)
            except NotFound:
                continue
            await self._service.offer(conversation, agent_id=event.agent_id, queue=event.queue)

    async def reset(self) -> None:
        """Nothing to drop: the surveys are records of what customers were asked, not a projection.
        A replay from the first event asks nobody again (each survey is marked asked)."""
        logger.warning("surveys.reset (surveys kept; nobody is asked twice)")
