"""The outbox's state changes written in batches (ADR 0032): what a channel answered for a send
(``sent`` with its provider ids) and what its delivery reports say (``advance``) are gathered for
20 ms and written with one unordered ``bulk_write`` per collection, coalesced per message
(ADR 0061: Kannel's two reports of one SMS are one update when they meet in a batch). Each caller
returns once its own updates are stored; one document the database refuses fails only its callers.

A send's answer is one update of its outbox entry (``done``, the provider ids: what delivery reports
are found by) and at most one of its message (ADR 0068): the status when it moves, together with the
provider ids the thread needs (a reply's ``References``); nothing when the status does not move and
the provider's only id is the message's own (Kannel's ref). Delivery reports write the message only.

Statuses only move forward: the status update matches only a lower status, so a delivery report
that came before the send's answer is never undone (the outbox state is set either way; the
provider ids then stay on the entry alone: channels with delivery reports thread nothing).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from hub.domain.ids import DeliveryStatus
from hub.storage.database import Db, Document
from hub.storage.gathering import Gathering

logger = logging.getLogger(__name__)

DONE = "done"  # hub.storage.outbox.DONE (that module builds on this one)
# A send's answer and its reports wait this long for others (ADR 0068: at 5 ms most batches held
# one change; 20 ms cut SecantusDB's CPU per SMS round trip by a quarter when Kannel's two reports
# come apart, bench/sms_storage.py). The DLR callback and the send's slot wait as long.
GATHER_S = 0.02
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
        self._outbox = db["outbox"]
        self._gathering = Gathering(self._write, name="hub:outbox-states", gather_s=gather_s, max_batch=MAX_BATCH)
        self.writes = 0  # bulk writes sent (tests and diagnostics)
        self.updates = 0  # update statements in them
        self.message_updates = 0  # of which to message documents

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
        entries, messages = _requests(batch)
        failed: dict[int, Exception] = {}
        for collection, (requests, owners) in ((self._outbox, entries), (self._messages, messages)):
            if requests:
                failed.update(await self._bulk(collection, requests, owners, len(batch)))
        self.message_updates += len(messages[0])
        for n, item in enumerate(batch):
            if item.future.done():
                continue
            if n in failed:
                item.future.set_exception(failed[n])
            else:
                item.future.set_result(None)

    async def _bulk(self, collection: AsyncCollection[Document], requests: list[UpdateOne],
                    owners: list[list[int]], size: int) -> dict[int, Exception]:
        """One unordered bulk write; returns the callers it failed."""
        self.writes += 1
        self.updates += len(requests)
        try:
            await collection.bulk_write(requests, ordered=False)
        except BulkWriteError as err:
            failed: dict[int, Exception] = {}
            for error in err.details.get("writeErrors", []):  # the code only: documents hold personal data
                for n in owners[error["index"]]:
                    failed[n] = RuntimeError(f"outbox state write failed with code {error['code']}")
            return failed
        except Exception as err:  # nothing known to be written: its callers fail (their leases bring them back)
            logger.warning("storage.outbox_states.write_failed size=%d error=%s", size, type(err).__name__)
            return {n: err for callers in owners for n in callers}
        return {}


def _lower(status: DeliveryStatus) -> list[str]:
    return [s.value for s in DeliveryStatus if s.rank() < status.rank()]


Requests = tuple[list[UpdateOne], list[list[int]]]  # the updates, and the callers of each (batch indexes)


def _requests(batch: list[Item]) -> tuple[Requests, Requests]:
    """The batch's updates of outbox entries and of messages, coalesced per message: one per send's
    outcome on its entry, one per message for the furthest status its callers name (Kannel's two
    reports of one SMS, or a report and the send's answer, often arrive within the same few
    milliseconds) with the provider ids a send's answer copies (``_copied``)."""
    done: dict[str, tuple[list[str], list[int]]] = {}
    changes: dict[str, tuple[DeliveryStatus | None, list[str] | None, list[int]]] = {}
    for n, item in enumerate(batch):
        if item.provider_ids is not None:
            done.setdefault(item.message_id, (item.provider_ids, []))[1].append(n)
        copied = _copied(item)
        if item.status is None and copied is None:
            continue
        status, ids, callers = changes.get(item.message_id, (None, None, []))
        if item.status is not None:
            status = item.status if status is None else max(status, item.status, key=DeliveryStatus.rank)
        changes[item.message_id] = (status, copied or ids, [*callers, n])
    entries: Requests = ([], [])
    for message_id, (provider_ids, callers) in done.items():
        entries[0].append(UpdateOne({"_id": message_id},
                                    {"$set": {"outbox.state": DONE, "provider_ids": provider_ids}}))
        entries[1].append(callers)
    messages: Requests = ([], [])
    for message_id, (status, ids, callers) in changes.items():
        query: dict[str, object] = {"_id": message_id}
        fields: dict[str, object] = {"provider_ids": ids} if ids else {}
        if status is not None:
            query["status"] = {"$in": _lower(status)}
            fields["status"] = status.value
        messages[0].append(UpdateOne(query, {"$set": fields}))
        messages[1].append(callers)
    return entries, messages


def _copied(item: Item) -> list[str] | None:
    """The provider ids a send's answer copies onto its message, for the thread (an e-mail's
    Message-ID, a Telegram message's): none when the provider's only id is the message's own
    (Kannel's ref: nothing to learn, and an SMS answer that moves no status writes no message)."""
    if not item.provider_ids or item.provider_ids == [item.message_id]:
        return None
    return item.provider_ids
