"""The group-commit writer of messages (ADR 0032, 0068).

Inbound messages must be durable before the channel is acknowledged, and single inserts cost a
round trip each; the writer therefore gathers whatever arrives within ``gather_s`` and while the
previous batch is in flight, customers' messages and staff replies alike, and stores it with one
unordered ``insert_many`` (at most ``max_batch``); the outbox entries of staff replies go first, in
one ``insert_many`` into ``outbox`` (ADR 0068: an entry stored without its message is repaired by
the outbox, a message stored without its entry would never be sent). A duplicate
``(channel, external_id)`` resolves to the message already stored (idempotent inbound). One
message the database refuses fails only its own caller; messages still waiting when the writer
stops are never acknowledged. What was stored is handed to ``stored`` (the inbox lines,
``hub.storage.summaries``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bson.errors import InvalidDocument
from pymongo.errors import BulkWriteError

from hub.domain.model import Message
from hub.domain.text import is_valid_unicode
from hub.errors import InvalidInput, InvalidText
from hub.storage.database import DUPLICATE_KEY, Db
from hub.storage.gathering import Gathering
from hub.storage.message_docs import inbound_key, message_from_doc, message_to_doc

logger = logging.getLogger(__name__)

MAX_BATCH = 500


@dataclass(frozen=True, slots=True)
class Stored:
    """Result of a write: the message as stored, and whether it was already there."""

    message: Message
    duplicate: bool


@dataclass(frozen=True, slots=True)
class Item:
    """One message waiting for the writer; ``outbox``: its outbox entry (a staff reply to send)."""

    message: Message
    future: asyncio.Future[Stored]
    outbox: Mapping[str, Any] | None = None


Batch = list[Item]


def _fail(future: asyncio.Future[Stored], err: Exception) -> None:
    if future.done():
        return
    # The error's class and code only: a driver's message may quote the document (personal data).
    if isinstance(err, UnicodeError):
        logger.warning("storage.messages.refused error=%s", type(err).__name__)
        err = InvalidText("the message could not be stored: it holds text that is not valid Unicode")
    elif isinstance(err, InvalidDocument):
        logger.warning("storage.messages.refused error=%s", type(err).__name__)
        err = InvalidInput("the message could not be stored: the database refuses its form")
    else:
        logger.error("storage.messages.write_failed error=%s code=%s", type(err).__name__, getattr(err, "code", ""))
    future.set_exception(err)


def _refuse_unstored(items: Batch) -> None:
    """Messages still waiting when the writer stops: never acknowledged (the channel resends them)."""
    for item in items:
        if not item.future.done():
            item.future.set_exception(RuntimeError("message store stopped"))


class MessageWriter:
    """Owns its task between ``async with`` and its exit. ``gather_s``: how long a woken writer lets
    further messages join before it writes; ``stored``: told of every batch's stored messages."""

    def __init__(self, db: Db, stored: Callable[[Iterable[Message]], None], *, gather_s: float = 0.0,
                 max_batch: int = MAX_BATCH) -> None:
        self._messages = db["messages"]
        self._outbox = db["outbox"]
        self._stored = stored
        self._gathering = Gathering(self._write_isolating, name="hub:message-writer", gather_s=gather_s,
                                    max_batch=max_batch, stopped=_refuse_unstored)
        self.batches = 0  # insert commands sent (tests and diagnostics)

    async def __aenter__(self) -> MessageWriter:
        await self._gathering.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._gathering.__aexit__(*exc)

    async def add(self, message: Message, outbox: Mapping[str, Any] | None = None) -> Stored:
        """Store durably (with its outbox entry, if any); returns once MongoDB acknowledged the
        write (or found the duplicate)."""
        future: asyncio.Future[Stored] = asyncio.get_running_loop().create_future()
        await self._gathering.add(Item(message, future, outbox))
        return await future

    async def _write_isolating(self, batch: Batch) -> None:
        """Write a batch; when it fails as a whole, write each message alone, so that one message
        the database refuses (or the driver cannot encode) fails only its own caller."""
        try:
            await self._write(batch)
            return
        except Exception as err:  # the writer must survive; each caller gets its own outcome
            if len(batch) == 1:
                _fail(batch[0].future, err)
                return
            logger.warning("storage.messages.batch_split size=%d error=%s", len(batch), type(err).__name__)
        await asyncio.gather(*(self._write_isolating([item]) for item in batch if not item.future.done()))

    async def _write(self, batch: Batch) -> None:
        for item in batch:  # refused before the batch is sent: it cannot be stored at all
            if not is_valid_unicode(item.message.text):
                item.future.set_exception(InvalidText("the message text is not valid Unicode"))
        batch = [item for item in batch if not item.future.done()]
        if not batch:
            return
        docs = [message_to_doc(item.message) for item in batch]
        failed = await self._store_entries(batch, docs)
        kept = [n for n in range(len(batch)) if n not in failed]
        try:
            if kept:
                self.batches += 1
                await self._messages.insert_many([docs[n] for n in kept], ordered=False)
        except BulkWriteError as err:
            failed.update({kept[e["index"]]: e["code"] for e in err.details.get("writeErrors", [])})
        await self._withdraw_entries(batch, failed)
        self._stored(item.message for i, item in enumerate(batch) if i not in failed)
        for index, (message, future) in enumerate((item.message, item.future) for item in batch):
            code = failed.get(index)
            if code is None:
                future.set_result(Stored(message, duplicate=False))
            elif code == DUPLICATE_KEY:
                existing = await self._existing(message)
                # Our own message, stored by an earlier attempt of this batch: not a customer's resend.
                future.set_result(Stored(existing, duplicate=existing.id != message.id))
            else:
                future.set_exception(RuntimeError(f"message write failed with code {code}"))

    async def _store_entries(self, batch: Batch, docs: list[dict[str, Any]]) -> dict[int, int]:
        """Insert the batch's outbox entries; returns the refused ones (batch index -> error code).
        An entry already there is this batch's own, stored by an attempt the batch split retries."""
        owners = [n for n, item in enumerate(batch) if item.outbox is not None]
        if not owners:
            return {}
        try:
            await self._outbox.insert_many([{**docs[n], "outbox": dict(batch[n].outbox or {})} for n in owners],
                                           ordered=False)
        except BulkWriteError as err:
            return {owners[e["index"]]: e["code"] for e in err.details.get("writeErrors", [])
                    if e["code"] != DUPLICATE_KEY}
        return {}

    async def _withdraw_entries(self, batch: Batch, failed: dict[int, int]) -> None:
        """The outbox entries of messages that were refused (not found stored): never sent."""
        ids = [batch[n].message.id for n, code in failed.items()
               if batch[n].outbox is not None and code != DUPLICATE_KEY]
        if ids:
            try:
                await self._outbox.delete_many({"_id": {"$in": ids}})
            except Exception as err:  # their leases run out; the outbox stores the message and sends it
                logger.warning("storage.messages.withdraw_failed entries=%d error=%s", len(ids), type(err).__name__)

    async def _existing(self, message: Message) -> Message:
        doc = await self._messages.find_one({"inbound_key": inbound_key(message.channel, message.external_id or "")})
        if doc is None:  # the duplicate was on _id itself: a retried identical write
            doc = await self._messages.find_one({"_id": message.id})
        assert doc is not None
        return message_from_doc(doc)
