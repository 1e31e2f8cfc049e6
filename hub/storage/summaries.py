"""A conversation's inbox line (its message-driven fields), coalesced per conversation and written in
one ``bulk_write`` every few tens of milliseconds (ADR 0032), to ``inbox_lines`` (ADR 0067: a small
document of its own, not the conversation's, which no longer changes per message).

What a stored message changes on its conversation (the inbox line: ``preview``,
``last_message_at``, ``unread``) and the delivered receipts of customer messages (one watermark,
``delivered_until``: every customer message sent up to then reached its agent's console), and the
agents' read receipts (``read_until``: every customer message sent up to then was read by an
agent, ADR 0058) are gathered here instead of one update per message. Messages themselves are stored (and
acknowledged) by the message writer first. Who must know a field is stored before telling anyone
(the delivered receipt, the agent's read clearing ``unread``) awaits its flush, within ``flush_s``.
An inbox line nobody awaits waits for its conversation's next awaited field, at most ``line_s``
(ADR 0063): a customer's message and its delivered receipt (which comes ~0.1 s later), and a reply
sent meanwhile, are one update of the line instead of two or three. Each flush writes the
conversations due within the next ``flush_s``, the others wait for their own time. Lines are
upserted (the first message of a conversation creates its line); a line another process created
meanwhile (a duplicate key) goes again in the next flush. One line the database refuses otherwise
fails only its own waiters; a write that fails as a whole keeps everything for the next flush.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from hub.domain.ids import Author
from hub.domain.model import Message
from hub.storage.database import DUPLICATE_KEY, Db
from hub.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

PREVIEW_CHARS = 140
READ_MARKS = 50_000  # conversations whose read watermark this process remembers


@dataclass(slots=True)
class Pending:
    """What one conversation's inbox line waits for; merged until the next flush."""

    preview: str | None = None
    last_message_at: datetime | None = None
    unread: int = 0
    reset_unread: bool = False  # the agent read everything: ``unread`` counts only what came after
    delivered_until: datetime | None = None
    read_until: datetime | None = None
    last_customer_at: datetime | None = None  # a snoozed conversation wakes on it (hub/snoozes.py)
    waiters: list[asyncio.Future[None]] = field(default_factory=list)
    due: float = 0.0  # event loop time by which it is written: the earliest its fields ask for

    def merge(self, later: Pending) -> None:
        """``later`` happened after ``self`` (a failed flush put ``self`` back)."""
        if later.last_message_at is not None and (self.last_message_at is None
                                                  or later.last_message_at >= self.last_message_at):
            self.preview, self.last_message_at = later.preview, later.last_message_at
        self.unread = later.unread if later.reset_unread else self.unread + later.unread
        self.reset_unread = self.reset_unread or later.reset_unread
        if later.delivered_until is not None:
            self.delivered_until = max(later.delivered_until, self.delivered_until or later.delivered_until)
        if later.read_until is not None:
            self.read_until = max(later.read_until, self.read_until or later.read_until)
        if later.last_customer_at is not None:
            self.last_customer_at = max(later.last_customer_at, self.last_customer_at or later.last_customer_at)
        self.waiters.extend(later.waiters)
        self.due = min(self.due, later.due)

    def update(self) -> dict[str, Any]:
        change: dict[str, Any] = {}
        if self.last_message_at is not None:
            change["$set"] = {"preview": self.preview, "last_message_at": self.last_message_at}
        if self.reset_unread:
            change.setdefault("$set", {})["unread"] = self.unread
        elif self.unread:
            change["$inc"] = {"unread": self.unread}
        if self.delivered_until is not None:
            change["$max"] = {"delivered_until": self.delivered_until}
        if self.read_until is not None:
            change.setdefault("$max", {})["read_until"] = self.read_until
        if self.last_customer_at is not None:
            change.setdefault("$max", {})["last_customer_at"] = self.last_customer_at
        return change


class ConversationSummaries:
    """Owns its flushing task between ``start()``/``stop()`` (or ``async with``); ``flush_s`` 0 = at once.
    ``line_s``: the longest an inbox line waits for an awaited field of its conversation (default ``flush_s``)."""

    def __init__(self, db: Db, *, flush_s: float, line_s: float | None = None) -> None:
        self._lines = db["inbox_lines"]
        self._flush_s = flush_s
        self._line_s = flush_s if line_s is None else max(line_s, flush_s)
        self._pending: dict[str, Pending] = {}
        self._next_due: float | None = None  # the earliest ``due`` of what is pending, once known to the task
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.flushes = 0  # bulk writes answered by the database (tests and diagnostics)
        self._read_marks: dict[str, datetime] = {}  # conversation -> read watermark this process wrote

    async def __aenter__(self) -> ConversationSummaries:
        self._task = asyncio.create_task(self._run(), name="hub:summary-writer")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
        if self._pending:  # what was gathered is written before the process goes
            try:
                await self.flush()
            except Exception as err:
                logger.warning("storage.summaries.final_flush_failed error=%s", type(err).__name__)
        for pending in self._pending.values():
            for waiter in pending.waiters:
                if not waiter.done():
                    waiter.set_exception(RuntimeError("summary writer stopped"))

    def note(self, stored: Iterable[Message]) -> None:
        """Messages just stored: their conversations' inbox lines (private notes change none)."""
        for message in stored:
            if message.private:
                continue
            pending = self._pending_for(message.conversation_id, self._line_s)
            if pending.last_message_at is None or message.sent_at >= pending.last_message_at:
                pending.preview, pending.last_message_at = message.text[:PREVIEW_CHARS], message.sent_at
            if message.author is Author.CUSTOMER:
                pending.unread += 1
                pending.last_customer_at = max(message.sent_at, pending.last_customer_at or message.sent_at)

    async def delivered(self, until: Mapping[str, datetime]) -> set[str]:
        """Every customer message of each conversation sent up to its ``until`` reached its agent;
        returns once written, with the conversations whose watermark was stored (a refused one is
        left out). One waiter per conversation and no task: a batch of receipts is one gather."""
        waiters = []
        for conversation_id, at in until.items():
            pending = self._pending_for(conversation_id, self._flush_s)
            pending.delivered_until = max(at, pending.delivered_until or at)
            waiters.append(self._waiter(pending))
        outcomes = await asyncio.gather(*waiters, return_exceptions=True)
        return {cid for cid, outcome in zip(until, outcomes, strict=True) if not isinstance(outcome, BaseException)}

    async def clear_unread(self, conversation_id: str) -> None:
        """The agent read the conversation; returns once stored (later messages count again)."""
        pending = self._pending_for(conversation_id, self._flush_s)
        pending.unread, pending.reset_unread = 0, True
        await self._wait(pending)

    async def read(self, conversation_id: str, until: datetime | None) -> None:
        """The agent read the conversation: every customer message sent up to ``until`` is read (one
        watermark, not a write per message) and ``unread`` is cleared; returns once stored."""
        pending = self._pending_for(conversation_id, self._flush_s)
        pending.unread, pending.reset_unread = 0, True
        if until is not None:
            pending.read_until = max(until, pending.read_until or until)
            self._remember_read(conversation_id, pending.read_until)
        await self._wait(pending)

    def read_until(self, conversation_id: str) -> datetime | None:
        """The read watermark this process last wrote for the conversation (None: not known here)."""
        return self._read_marks.get(conversation_id)

    def _remember_read(self, conversation_id: str, until: datetime) -> None:
        self._read_marks.pop(conversation_id, None)
        self._read_marks[conversation_id] = until
        if len(self._read_marks) > READ_MARKS:
            del self._read_marks[next(iter(self._read_marks))]

    def _pending_for(self, conversation_id: str, within_s: float) -> Pending:
        """The conversation's pending fields, to be written within ``within_s`` from now (or sooner)."""
        due = asyncio.get_running_loop().time() + within_s
        pending = self._pending.get(conversation_id)
        if pending is None:
            pending = self._pending[conversation_id] = Pending(due=due)
        else:
            pending.due = min(pending.due, due)
        if self._next_due is None or due < self._next_due:  # the task sleeps until a later time: wake it
            self._next_due = due
            self._wakeup.set()
        return pending

    async def _wait(self, pending: Pending) -> None:
        await self._waiter(pending)

    @staticmethod
    def _waiter(pending: Pending) -> asyncio.Future[None]:
        """A future answered when ``pending`` is written (or failed with why it was not)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        pending.waiters.append(waiter)
        return waiter

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._next_due is not None:
                delay = self._next_due - loop.time()
                if delay > 0:  # until then, or until something is due earlier
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wakeup.wait(), delay)
                    self._wakeup.clear()
                    continue
                try:
                    await self.flush(until=loop.time() + self._flush_s)
                except Exception as err:  # kept for the next flush; the writer must survive
                    logger.warning("storage.summaries.flush_failed error=%s", type(err).__name__)
                    await asyncio.sleep(max(self._flush_s, 0.05))

    async def flush(self, until: float | None = None) -> None:
        """Write what is due by ``until`` (event loop time; None: everything gathered so far) in one
        unordered bulk write."""
        if until is None:
            batch, self._pending = self._pending, {}
        else:  # what waits longer stays: its own receipt may still come and ride along
            batch = {cid: pending for cid, pending in self._pending.items() if pending.due <= until}
            for cid in batch:
                del self._pending[cid]
        self._next_due = min((pending.due for pending in self._pending.values()), default=None)
        ids = [cid for cid, pending in batch.items() if pending.update()]
        failed: dict[int, int] = {}
        if ids:
            try:
                await self._lines.bulk_write(
                    [UpdateOne({"_id": cid}, batch[cid].update(), upsert=True) for cid in ids], ordered=False)
                self.flushes += 1  # once answered: a test that sees it can read what was written
            except BulkWriteError as err:
                self.flushes += 1
                failed = {e["index"]: e["code"] for e in err.details.get("writeErrors", [])}
            except Exception:
                self._put_back(batch)  # nothing was written: all of it goes again, first
                raise
        refused = {ids[index]: code for index, code in failed.items()}
        raced = {cid: batch.pop(cid) for cid, code in refused.items() if code == DUPLICATE_KEY}
        if raced:  # another process upserted the same new line first: it exists now, so it goes again
            self._put_back(raced)
            self._wakeup.set()
        for cid, pending in batch.items():
            code = refused.get(cid)
            if code is not None:  # the error's code only: the document may hold personal data
                logger.warning("storage.summaries.refused id=%s code=%s", cid, code)
            for waiter in pending.waiters:
                if waiter.done():
                    continue
                if code is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(RuntimeError(f"inbox line write failed with code {code}"))

    def _put_back(self, batch: dict[str, Pending]) -> None:
        """``batch`` was not written: it goes again, before what was gathered since."""
        for cid, pending in batch.items():
            later = self._pending.pop(cid, None)
            if later is not None:
                pending.merge(later)
            self._pending[cid] = pending
        self._next_due = min((pending.due for pending in self._pending.values()), default=None)
