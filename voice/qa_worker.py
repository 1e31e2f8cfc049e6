"""The quality worker: takes recorded calls off the durable job queue, oldest first, has a process
of its pool transcribe and measure them (voice/qa_analysis.py), scores them against their queue's
rules (hub/domain/quality.py) and stores transcript and score.

Speech work never runs on the event loop: the pool's processes (``spawn``ed, ``workers`` of them)
each load the model once. One lane per process claims jobs, so the pool is never handed more
than it can run. A recording still being written waits (up to ``settle_s`` after the call); a
missing or corrupt wav fails its job with a message that names the leg and the others go on; a
missing model keeps the jobs waiting (an operator's fix) instead of failing them.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Protocol

from hub.clock import Clock
from hub.config import QualitySettings
from hub.domain.quality import CallAnalysis, QualityResult, RuleSet, Speaker, evaluate, rule_set_for
from hub.errors import HubError
from hub.storage.quality import QualityJob
from hub.supervisor import Health
from voice.activity import ActivitySettings
from voice.qa_analysis import AnalysisRequest, BadRecording, RecordingNotReady, analyse, start_process
from voice.transcriber import ModelMissing

logger = logging.getLogger(__name__)

LEG_FILES = ((Speaker.CALLER, "-caller.wav"), (Speaker.AGENT, "-agent.wav"))  # voice/dialplan.py's MixMonitor
NOT_READY_RETRY_S = 1.0
MODEL_RETRY_S = 60.0
ERROR_RETRY_S = 5.0


class Jobs(Protocol):
    async def claim(self, now: datetime, lease_s: float) -> QualityJob | None: ...

    async def defer(self, recording: str, until: datetime) -> None: ...

    async def finish(self, recording: str, now: datetime) -> None: ...

    async def fail(self, recording: str, error: str, now: datetime) -> None: ...

    async def rule_sets(self) -> dict[str, RuleSet]: ...

    async def save_result(self, job: QualityJob, language: str, analysis: CallAnalysis, result: QualityResult,
                          now: datetime) -> None: ...


class QualityWorker:
    """``async with`` starts the process pool; ``run`` (supervised) works the queue until cancelled."""

    def __init__(self, settings: QualitySettings, jobs: Jobs, recordings_dir: Path, clock: Clock) -> None:
        if settings.language not in settings.models:
            raise HubError(f"quality.language {settings.language!r} has no entry in quality.models")
        self._settings = settings
        self._jobs = jobs
        self._recordings = recordings_dir
        self._clock = clock
        self._model = settings.models[settings.language]
        self._pool: ProcessPoolExecutor | None = None
        self.done = 0  # jobs this worker finished or failed (bench/speech.py, tests' diagnostics)

    async def __aenter__(self) -> QualityWorker:
        self._pool = self._new_pool()
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self._settings.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=start_process, initargs=([self._model],))

    async def run(self, health: Health) -> None:
        async with asyncio.TaskGroup() as lanes:
            for lane in range(self._settings.workers):
                lanes.create_task(self._lane(health), name=f"voice:quality:lane:{lane}")

    async def _lane(self, health: Health) -> None:
        while True:
            job = await self._jobs.claim(self._clock.now(), self._settings.lease_s)
            health.up()  # the job queue answers
            if job is None:
                await asyncio.sleep(self._settings.poll_s)
                continue
            await self.work(job)

    async def work(self, job: QualityJob) -> None:
        """One job: analysed, scored and stored, or deferred, or failed; never raises for the job's sake."""
        rules = rule_set_for(job.queue, await self._jobs.rule_sets())
        try:
            analysis = await self._analyse(self._request(job, rules))
        except RecordingNotReady as err:
            await self._not_ready(job, str(err))
            return
        except BadRecording as err:
            await self._fail(job, str(err))
            return
        except ModelMissing as err:
            logger.error("quality.model.missing language=%s error=%s (jobs wait)", self._settings.language, err)
            await self._jobs.defer(job.recording, self._clock.now() + timedelta(seconds=MODEL_RETRY_S))
            return
        except (BrokenProcessPool, OSError, ValueError, RuntimeError) as err:
            await self._unexpected(job, err)
            return
        result = evaluate(rules, analysis)
        await self._jobs.save_result(job, self._settings.language, analysis, result, self._clock.now())
        await self._jobs.finish(job.recording, self._clock.now())
        self.done += 1
        logger.info("quality.job.done recording=%s score=%d flagged=%s rules=%s", job.recording, result.score,
                    result.flagged, ",".join(h.rule for h in result.hits) or "-")

    def _request(self, job: QualityJob, rules: RuleSet) -> AnalysisRequest:
        phrases = self._settings.grammar.get(self._settings.language)
        grammar = () if phrases is None else tuple(sorted(set(phrases) | rules.phrases()))
        return AnalysisRequest(recording=job.recording, model=self._model, grammar=grammar,
                               legs=tuple((speaker, self._recordings / f"{job.recording}{suffix}")
                                          for speaker, suffix in LEG_FILES),
                               activity=ActivitySettings(level=self._settings.activity_level))

    async def _analyse(self, request: AnalysisRequest) -> CallAnalysis:
        if self._pool is None:
            raise RuntimeError("the quality worker is not started")
        return await asyncio.get_running_loop().run_in_executor(self._pool, analyse, request)

    async def _not_ready(self, job: QualityJob, error: str) -> None:
        if self._clock.now() - job.ended_at < timedelta(seconds=self._settings.settle_s):
            await self._jobs.defer(job.recording, self._clock.now() + timedelta(seconds=NOT_READY_RETRY_S))
        else:
            await self._fail(job, f"{error} {self._settings.settle_s:g} s after the call")

    async def _fail(self, job: QualityJob, error: str) -> None:
        logger.warning("quality.job.failed recording=%s error=%s", job.recording, error)
        await self._jobs.fail(job.recording, error, self._clock.now())
        self.done += 1

    async def _unexpected(self, job: QualityJob, err: BaseException) -> None:
        logger.error("quality.job.error recording=%s attempt=%d error=%s", job.recording, job.attempts,
                     type(err).__name__)
        if isinstance(err, BrokenProcessPool):  # a worker process died (out of memory?): a new pool
            old, self._pool = self._pool, self._new_pool()
            if old is not None:
                await asyncio.to_thread(old.shutdown, wait=False, cancel_futures=True)
        if job.attempts >= self._settings.max_attempts:
            await self._fail(job, f"gave up after {job.attempts} attempts ({type(err).__name__})")
        else:
            await self._jobs.defer(job.recording, self._clock.now() + timedelta(seconds=ERROR_RETRY_S))
