"""The queue ids the ACD's rounds look at, known to the process instead of read on every tick.

Queues are configuration (an administrator creates or changes one now and then); a round needs
only their ids, what waits in them is in Redis. So the list is read from the directory at most
every ``reread_s``, and a queue this process puts work into is known at once: a conversation this
process queues is never passed over because of the cache. Another process's work in a queue new
to this one is offered by that process's own rounds at once, and by this one after its next reread.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol


class QueueNames(Protocol):
    async def queues(self) -> list[Any]: ...


class KnownQueues:
    """``ids()`` for each round; ``add()`` when this process enqueues; ``reads``/``looks``: diagnostics."""

    def __init__(self, directory: QueueNames, *, reread_s: float) -> None:
        self._directory = directory
        self._reread_s = reread_s
        self._ids: set[str] = set()
        self._added: set[str] = set()  # enqueued into since the last read
        self._read_at: float | None = None
        self.reads = 0
        self.looks = 0  # rounds that asked (tests: rounds happened)

    def add(self, queue_id: str) -> None:
        self._ids.add(queue_id)
        self._added.add(queue_id)

    async def ids(self) -> list[str]:
        self.looks += 1
        now = asyncio.get_running_loop().time()
        if self._read_at is None or now - self._read_at >= self._reread_s:
            added, self._added = self._added, set()
            try:
                listed = {str(queue.id) for queue in await self._directory.queues()}
            except BaseException:
                self._added |= added
                raise
            self.reads += 1
            self._read_at = now
            self._ids = listed | added | self._added
        return sorted(self._ids)
