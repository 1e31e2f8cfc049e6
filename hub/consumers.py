"""Durable consumers: whatever must not miss a fact reads the event table from its own checkpoint.

Live pub/sub is at most once (ADR 0006); a KPI projection, a work-order or survey trigger cannot
live with that. A ``DurableConsumer`` gets every stored event, in ``seq`` order, at least once:
``DurableConsumers`` (one per process) runs each registered consumer in one process at a time (a
Redis lease ``hub:lease:consumer:<name>``), reads a batch after the consumer's checkpoint, hands it
to ``handle`` and only then moves the checkpoint. A crash between the two repeats the batch, so
handlers are idempotent, keyed by the event's ``id``. A ``ConversationChanged`` bus fact only
wakes the loop early (after ``gather_s``, so that a burst of transitions is read as one batch);
without one, one shared look every ``poll_s`` (the last number drawn and every checkpoint: two
reads for all consumers) wakes the consumers that are behind. The ordering rules (holes, the seal) are in
``hub/domain/stream.py``; the reasons in docs/decisions/0022-durable-consumers.md.

Adding one: implement ``DurableConsumer`` (a unique ``name``, an idempotent ``handle``, a ``reset``
that drops what it built) and register it in ``hub/bootstrap.py:durable_consumers``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Protocol

from hub.clock import Clock
from hub.domain.stream import GAP_TIMEOUT_S, StoredEvent, has_hole, plan
from hub.errors import HubError
from hub.ports import Exclusive
from hub.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

LEASE_PREFIX = "consumer:"
MAX_BACKOFF_S = 30.0
# A consumer with nothing to wait for sleeps until woken (a fact, or the shared look finding work);
# this long at most, should every wake-up be lost.
IDLE_S = 60.0


class DurableConsumer(Protocol):
    """Reacts to every stored event at least once. ``handle`` must be idempotent per event id."""

    @property
    def name(self) -> str: ...

    async def handle(self, batch: Sequence[StoredEvent]) -> None:
        """Apply a batch (ascending ``seq``). Raising leaves the checkpoint where it was: retried."""
        ...

    async def reset(self) -> None:
        """Drop everything built so far; the runner then replays from the first event."""
        ...


class EventStream(Protocol):
    """The numbered event table (``hub.storage.eventlog.MongoEventStream``)."""

    async def after(self, seq: int, limit: int) -> list[StoredEvent]: ...

    async def sealed(self) -> int: ...

    async def seal(self, upto: int) -> None: ...

    async def voids(self, first: int, last: int) -> set[int]: ...

    async def backfill(self) -> int: ...

    async def drawn(self) -> int: ...


class CheckpointState(Protocol):
    @property
    def seq(self) -> int: ...

    @property
    def reset_requested(self) -> bool: ...


class NamedCheckpoint(CheckpointState, Protocol):
    @property
    def name(self) -> str: ...


class Checkpoints(Protocol):
    """Where each consumer has got to (``hub.storage.eventlog.MongoCheckpoints``)."""

    async def load(self, name: str) -> CheckpointState: ...

    async def all(self) -> Sequence[NamedCheckpoint]: ...

    async def save(self, name: str, seq: int, *, holder: str, at: datetime) -> None: ...

    async def mark_holder(self, name: str, *, holder: str, at: datetime) -> None: ...

    async def reset_done(self, name: str, *, holder: str, at: datetime) -> None: ...


class DuplicateConsumer(HubError):
    pass


class ConsumerRegistry:
    """The durable consumers of this hub, filled by the composition root."""

    def __init__(self) -> None:
        self._consumers: dict[str, DurableConsumer] = {}

    def register(self, consumer: DurableConsumer) -> None:
        if consumer.name in self._consumers:
            raise DuplicateConsumer(f"durable consumer {consumer.name!r} registered twice")
        self._consumers[consumer.name] = consumer

    def __iter__(self) -> Iterator[DurableConsumer]:
        return iter(self._consumers.values())

    def __len__(self) -> int:
        return len(self._consumers)

    @property
    def names(self) -> list[str]:
        return list(self._consumers)


class DurableConsumers:
    """Runs every registered consumer where this process holds its lease. ``async with`` starts it."""

    def __init__(self, registry: ConsumerRegistry, *, stream: EventStream, checkpoints: Checkpoints,
                 exclusive: Exclusive, clock: Clock, holder: str, batch: int = 500, poll_s: float = 1.0,
                 gather_s: float = 0.0, gap_timeout_s: float = GAP_TIMEOUT_S) -> None:
        self._registry = registry
        self._stream = stream
        self._checkpoints = checkpoints
        self._exclusive = exclusive
        self._clock = clock
        self._holder = holder
        self._batch = batch
        self._poll_s = poll_s
        self._gather_s = gather_s  # after a wake-up, let the burst it belongs to arrive first
        self._gap_timeout_s = gap_timeout_s  # only ever lowered in tests, with writers' confirm_after_s
        self._wake = {consumer.name: asyncio.Event() for consumer in registry}
        self._tasks: list[asyncio.Task[None]] = []
        self.looks = 0  # shared looks done (tests count reads per look)

    async def __aenter__(self) -> DurableConsumers:
        if len(self._registry):
            await self._stream.backfill()
        for consumer in self._registry:
            self._tasks.append(asyncio.create_task(
                self._exclusive.exclusive(LEASE_PREFIX + consumer.name, functools.partial(self.run, consumer)),
                name=f"hub:consumer:{consumer.name}"))
        if len(self._registry):
            self._tasks.append(asyncio.create_task(self._look(), name="hub:consumers:look"))
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            await cancel_and_wait(task)
        self._tasks.clear()

    def wake(self) -> None:
        for event in self._wake.values():
            event.set()

    async def _look(self) -> None:
        """Every ``poll_s``, one look for every consumer: the last number drawn for an event and all
        the checkpoints, two reads however many consumers there are (each read its checkpoint and
        the table after it before: two reads per consumer and poll, most of a quiet hub's MongoDB
        operations). A consumer behind that number, or asked to reset, is woken (one behind only a
        void or an insert still under way reads nothing new and is woken again at the next look,
        as every consumer was before). Runs in every process (a consumer whose lease is elsewhere
        has no loop here to wake)."""
        while True:
            await asyncio.sleep(self._poll_s)
            try:
                newest = await self._stream.drawn()
                behind = {point.name for point in await self._checkpoints.all()
                          if point.reset_requested or point.seq < newest}
            except Exception as err:  # the loops' own IDLE_S bounds what a failed look delays
                logger.warning("consumers.look_failed error=%s", type(err).__name__)
                continue
            self.looks += 1
            for name, wake in self._wake.items():
                if name in behind:
                    wake.set()

    async def on_bus(self, fact: object) -> None:
        """Bus subscriber (to ``ConversationChanged``): a transition was stored somewhere, so there
        are new events; read them now rather than at the next poll. Only a wake-up: a lost one
        costs at most ``poll_s``."""
        self.wake()

    async def run(self, consumer: DurableConsumer) -> None:
        """The consumer's loop while this process holds its lease; retries failures with backoff."""
        logger.info("consumers.started name=%s holder=%s", consumer.name, self._holder)
        await self._checkpoints.mark_holder(consumer.name, holder=self._holder, at=self._clock.now())
        backoff = self._poll_s
        while True:
            try:
                await self._loop(consumer)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("consumers.failed name=%s retry_in=%.1fs", consumer.name, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)

    async def _loop(self, consumer: DurableConsumer) -> None:
        name, wake, watch = consumer.name, self._wake[consumer.name], None
        while True:
            wake.clear()
            checkpoint = await self._checkpoints.load(name)
            if checkpoint.reset_requested:
                await consumer.reset()
                await self._checkpoints.reset_done(name, holder=self._holder, at=self._clock.now())
                logger.warning("consumers.reset name=%s", name)
                watch = None
                continue
            events = await self._stream.after(checkpoint.seq, self._batch)
            seqs = [e.seq for e in events]
            sealed, voids = checkpoint.seq, set[int]()
            if has_hole(checkpoint.seq, seqs):
                sealed = await self._stream.sealed()
                voids = await self._stream.voids(checkpoint.seq + 1, seqs[-1])
            step = plan(checkpoint.seq, seqs, sealed=sealed, voids=voids, watch=watch, now=time.monotonic(),
                        gap_timeout_s=self._gap_timeout_s)
            if step.take:
                await consumer.handle(events[:step.take])
            if step.checkpoint > checkpoint.seq:
                await self._checkpoints.save(name, step.checkpoint, holder=self._holder, at=self._clock.now())
            watch = step.watch
            if step.seal_to is not None:
                await self._stream.seal(step.seal_to)
                logger.warning("consumers.sealed name=%s upto=%d", name, step.seal_to)
                continue  # read again: an event that arrived meanwhile is taken now, later ones renumber
            if step.take == len(events) == self._batch:
                continue  # more waiting
            with contextlib.suppress(TimeoutError):  # at a hole, look again every poll_s: it may fill
                await asyncio.wait_for(wake.wait(), self._poll_s if watch is not None else IDLE_S)
                # Woken by a transition: others usually follow (an assignment round, customers
                # arriving together). Reading them as one batch costs one read of the table, one
                # write of the projection and one of the checkpoint, instead of those per event.
                await asyncio.sleep(self._gather_s)
