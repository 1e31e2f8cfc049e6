"""The outbox's state changes written in batches (ADR 0032): what a channel answered for a send
(``sent`` with its provider ids) and what its delivery reports say (``advance``) are gathered for a
few milliseconds and written with one unordered ``bulk_write``. Each caller returns once its own
updates are stored; one document the database refuses fails only its caller.

Statuses only move forward: the status update matches only a lower status, so a delivery report
that came before the send's answer is never undone (the outbox state is set either way).
"""

from __future__ import annotations

import asyncio
import logging

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from hub.domain.ids import DeliveryStatus
from hub.storage.database import Db
from hub.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

DONE = "done"  # hub.storage.outbox.DONE (that module builds on this one)
GATHER_S = 0.005
MAX_BATCH = 500  # callers per bulk write

Item = tuple[list[UpdateOne], "asyncio.Future[None]"]


def _lower(status: DeliveryStatus) -> list[str]:
    return [s.value for s in DeliveryStatus if s.rank() < status.rank()]


class OutboxStates:
    """Owns its writer task inside ``async with``; without it every change is written at once."""

    def __init__(self, db: Db, *, gather_s: float = GATHER_S) -> None:
        self._messages = db["messages"]
        self._gather_s = gather_s
        self._pending: list[Item] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.writes = 0  # bulk writes sent (tests and diagnostics)

    async def __aenter__(self) -> OutboxStates:
        self._task = asyncio.create_task(self._run(), name="hub:outbox-states")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
        pending, self._pending = self._pending, []
        if pending:  # what was gathered is written on the way out
            await self._write(pending)

    async def sent(self, message_id: str, provider_ids: list[str], status: DeliveryStatus) -> None:
        """The channel took the message: outbox done, its provider ids, the status forward only."""
        await self._submit([
            UpdateOne({"_id": message_id}, {"$set": {"outbox.state": DONE, "provider_ids": provider_ids}}),
            UpdateOne({"_id": message_id, "status": {"$in": _lower(status)}}, {"$set": {"status": status.value}})])

    async def advance(self, message_id: str, status: DeliveryStatus) -> None:
        """A delivery report: the status forward only."""
        await self._submit([UpdateOne({"_id": message_id, "status": {"$in": _lower(status)}},
                                      {"$set": {"status": status.value}})])

    async def _submit(self, updates: list[UpdateOne]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._task is None:
            await self._write([(updates, future)])
        else:
            self._pending.append((updates, future))
            self._wakeup.set()
        await future

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            if self._gather_s:
                await asyncio.sleep(self._gather_s)
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                await self._write(batch)

    async def _write(self, batch: list[Item]) -> None:
        owner: list[int] = []  # request index -> caller index
        requests: list[UpdateOne] = []
        for n, (updates, _) in enumerate(batch):
            requests.extend(updates)
            owner.extend([n] * len(updates))
        failed: dict[int, Exception] = {}
        try:
            self.writes += 1
            await self._messages.bulk_write(requests, ordered=False)
        except BulkWriteError as err:
            for error in err.details.get("writeErrors", []):  # the code only: documents hold personal data
                failed[owner[error["index"]]] = RuntimeError(f"outbox state write failed with code {error['code']}")
        except Exception as err:  # nothing known to be written: every caller fails (its lease brings it back)
            logger.warning("storage.outbox_states.write_failed size=%d error=%s", len(batch), type(err).__name__)
            failed = {n: err for n in range(len(batch))}
        for n, (_, future) in enumerate(batch):
            if future.done():
                continue
            if n in failed:
                future.set_exception(failed[n])
            else:
                future.set_result(None)
