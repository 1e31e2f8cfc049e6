"""The outbox's state changes written in batches (ADR 0032): what a channel answered for a send
(``sent`` with its provider ids) and what its delivery reports say (``advance``) are gathered for a
few milliseconds and written with one unordered ``bulk_write``, coalesced per message (ADR 0061:
Kannel's two reports of one SMS are one update when they meet in a batch; a send's answer that
moves no status writes none). Each caller returns once its own updates are stored; one document
the database refuses fails only its callers.

Statuses only move forward: the status update matches only a lower status, so a delivery report
that came before the send's answer is never undone (the outbox state is set either way).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from hub.domain.ids import DeliveryStatus
from hub.storage.database import Db
from hub.storage.gathering import Gathering

logger = logging.getLogger(__name__)

DONE = "done"  # hub.storage.outbox.DONE (that module builds on this one)
GATHER_S = 0.005
MAX_BATCH = 500  # callers per bulk write


@dataclass(slots=True)
class Item:
    """One caller's change: a send's outcome (``provider_ids`` set) or a report (status only)."""

    message_id: str
    status: DeliveryStatus | None  # None: the status does not move (a send whose answer is no news)
    provider_ids: list[str] | None
    future: asyncio.Future[None]


class OutboxStates:
    """Owns its writer task inside ``async with``; without it every change is written at once."""

    def __init__(self, db: Db, *, gather_s: float = GATHER_S) -> None:
        self._messages = db["messages"]
        self._gathering = Gathering(self._write, name="hub:outbox-states", gather_s=gather_s, max_batch=MAX_BATCH)
        self.writes = 0  # bulk writes sent (tests and diagnostics)
        self.updates = 0  # update statements in them

    async def __aenter__(self) -> OutboxStates:
        await self._gathering.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._gathering.__aexit__(*exc)

    async def sent(self, message_id: str, provider_ids: list[str], status: DeliveryStatus,
                   stored: DeliveryStatus | None = None) -> None:
        """The channel took the message: outbox done, its provider ids, the status forward only.
        ``stored``: the status the message had when it was sent; an answer no further than that
        (Kannel's ``queued`` for a message stored ``queued``) can move nothing and is not written."""
        moves = stored is None or status.rank() > stored.rank()
        await self._submit(message_id, status if moves else None, list(provider_ids))

    async def advance(self, message_id: str, status: DeliveryStatus) -> None:
        """A delivery report: the status forward only."""
        await self._submit(message_id, status, None)

    async def _submit(self, message_id: str, status: DeliveryStatus | None, provider_ids: list[str] | None) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        item = Item(message_id, status, provider_ids, future)
        await self._gathering.add(item)
        await future

    async def _write(self, batch: list[Item]) -> None:
        requests, owners = _requests(batch)
        failed: dict[int, Exception] = {}
        try:
            if requests:
                self.writes += 1
                self.updates += len(requests)
                await self._messages.bulk_write(requests, ordered=False)
        except BulkWriteError as err:
            for error in err.details.get("writeErrors", []):  # the code only: documents hold personal data
                for n in owners[error["index"]]:
                    failed[n] = RuntimeError(f"outbox state write failed with code {error['code']}")
        except Exception as err:  # nothing known to be written: every caller fails (its lease brings it back)
            logger.warning("storage.outbox_states.write_failed size=%d error=%s", len(batch), type(err).__name__)
            failed = {n: err for n in range(len(batch))}
        for n, item in enumerate(batch):
            if item.future.done():
                continue
            if n in failed:
                item.future.set_exception(failed[n])
            else:
                item.future.set_result(None)


def _lower(status: DeliveryStatus) -> list[str]:
    return [s.value for s in DeliveryStatus if s.rank() < status.rank()]


def _requests(batch: list[Item]) -> tuple[list[UpdateOne], list[list[int]]]:
    """The batch's updates, coalesced per message: one for a send's outcome, one for the furthest
    status its callers name (Kannel's two reports of one SMS, or a report and the send's answer,
    often arrive within the same few milliseconds). ``owners[i]``: the callers of request ``i``."""
    done: dict[str, tuple[list[str], list[int]]] = {}
    furthest: dict[str, tuple[DeliveryStatus, list[int]]] = {}
    for n, item in enumerate(batch):
        if item.provider_ids is not None:
            ids, callers = done.setdefault(item.message_id, (item.provider_ids, []))
            callers.append(n)
        if item.status is not None:
            status, callers = furthest.get(item.message_id, (item.status, []))
            callers.append(n)
            furthest[item.message_id] = (max(status, item.status, key=DeliveryStatus.rank), callers)
    requests: list[UpdateOne] = []
    owners: list[list[int]] = []
    for message_id, (ids, callers) in done.items():
        requests.append(UpdateOne({"_id": message_id}, {"$set": {"outbox.state": DONE, "provider_ids": ids}}))
        owners.append(callers)
    for message_id, (status, callers) in furthest.items():
        requests.append(UpdateOne({"_id": message_id, "status": {"$in": _lower(status)}},
                                  {"$set": {"status": status.value}}))
        owners.append(callers)
    return requests, owners
