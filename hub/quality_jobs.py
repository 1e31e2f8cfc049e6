"""The durable consumer that turns every ended call with a recording into quality jobs.

It reads the event table (``call_ended`` transitions, at least once, in ``seq`` order: ADR 0022),
looks up the call's record for its recordings and enqueues one job per recording in
``quality_jobs`` (idempotent by the recording's name). The jobs survive a restart; the quality
worker (voice/qa_worker.py) works them off oldest first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from hub.call_ports import CallRecords
from hub.clock import Clock
from hub.domain.events import EventType
from hub.domain.stream import StoredEvent
from hub.storage.quality import QualityJob

logger = logging.getLogger(__name__)


class JobQueue(Protocol):
    async def enqueue(self, job: QualityJob, now: datetime) -> bool: ...


class QualityJobsConsumer:
    name = "quality_jobs"

    def __init__(self, calls: CallRecords, jobs: JobQueue, clock: Clock) -> None:
        self._calls = calls
        self._jobs = jobs
        self._clock = clock

    async def handle(self, batch: Sequence[StoredEvent]) -> None:
        for event in batch:
            if event.type != EventType.CALL_ENDED.value:
                continue
            record = await self._calls.of_conversation(event.conversation_id)
            if record is None:
                logger.warning("quality.jobs.no_call conversation=%s", event.conversation_id)
                continue
            for recording in record.recordings:
                job = QualityJob(recording=recording, conversation_id=event.conversation_id, call_id=record.call_id,
                                 queue=event.queue, seq=event.seq, ended_at=event.at)
                if await self._jobs.enqueue(job, self._clock.now()):
                    logger.info("quality.jobs.queued recording=%s seq=%d", recording, event.seq)

    async def reset(self) -> None:
        """Nothing to drop: a replay enqueues nothing new (jobs are keyed by recording)."""
