"""Callers' items gathered for a few milliseconds and written in bounded batches by one task.

The lifecycle the batch writers share (ADR 0032, 0061): ``add`` queues an item and wakes the writer,
which waits ``gather_s`` for more (not when a full batch already waits) and hands them to ``write``
at most ``max_batch`` at a time, in order; what is still queued on leaving ``async with`` is written
then, or handed to ``stopped`` when given (the message writer fails it: nothing it did not store is
acknowledged). Used without ``async with``, every item is written at once. ``write`` answers its
items' callers (their futures) itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from hub.tasks import cancel_and_wait

T = TypeVar("T")


class Gathering(Generic[T]):
    def __init__(self, write: Callable[[list[T]], Awaitable[None]], *, name: str, gather_s: float,
                 max_batch: int, stopped: Callable[[list[T]], None] | None = None) -> None:
        self._write = write
        self._stopped = stopped
        self._name = name
        self._gather_s = gather_s
        self._max_batch = max_batch
        self._pending: list[T] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Gathering[T]:
        self._task = asyncio.create_task(self._run(), name=self._name)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
        pending, self._pending = self._pending, []
        if pending and self._stopped is not None:
            self._stopped(pending)
        elif pending:  # what was gathered is written on the way out
            await self._write(pending)

    @property
    def waiting(self) -> int:
        """Items queued and not yet handed to ``write`` (tests and diagnostics)."""
        return len(self._pending)

    async def add(self, item: T) -> None:
        """Queue ``item`` (written at once when no writer runs); its caller awaits its own future."""
        if self._task is None:
            await self._write([item])
        else:
            self._pending.append(item)
            self._wakeup.set()

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            if self._gather_s and len(self._pending) < self._max_batch:
                await asyncio.sleep(self._gather_s)
            while self._pending:
                batch, self._pending = self._pending[:self._max_batch], self._pending[self._max_batch:]
                await self._write(batch)
