"""The customer's delivered/read receipts, coalesced per conversation (ADR 0062).

The widget sends a ``delivered`` and, when the chat is in view, a ``read`` frame for the agents'
messages, usually both at once: written one frame at a time they cost two updates and two facts
per agent message. Here every receipt of a conversation that arrives within ``GATHER_S`` becomes
one write per status (a message read needs no "delivered" of its own: read is further) and one
fact per message that moved. Receipts are not acknowledged to the widget, so nothing waits for
them; a receipt lost in a crash only leaves a status behind, as a failed write did before.
"""

from __future__ import annotations

import asyncio
import logging

from hub.conversations.core import MAX_RECEIPTS, ConversationCore
from hub.domain.ids import Author, DeliveryStatus
from hub.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

GATHER_S = 0.05  # a receipt waits this long for the others of its conversation
MAX_CONVERSATIONS = 10_000  # conversations waiting at once; beyond, a receipt is written at once


class CustomerReceipts:
    """Lifecycle: ``async with`` runs the writer (and writes what is gathered on leaving); without
    it ``add`` writes at once, as one frame did before."""

    def __init__(self, core: ConversationCore) -> None:
        self._core = core
        self._pending: dict[str, dict[str, DeliveryStatus]] = {}  # conversation -> message -> furthest status
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.writes = 0  # receipt writes made (one per conversation and status), for tests and benches

    async def __aenter__(self) -> CustomerReceipts:
        self._task = asyncio.create_task(self._run(), name="customer-receipts")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
        await self.flush()

    async def receipts(self, conversation_id: str, message_ids: list[str], status: DeliveryStatus,
                       author: Author) -> None:
        """``ConversationCore.receipts``, gathered when they are the customer's (for ``Author.AGENT``'s
        messages: everything our side wrote)."""
        if author is Author.AGENT:
            await self.add(conversation_id, message_ids, status)
        else:
            await self._core.receipts(conversation_id, message_ids, status, author)

    async def add(self, conversation_id: str, message_ids: list[str], status: DeliveryStatus) -> None:
        """The customer's receipt for messages our side wrote; statuses only move forward."""
        if self._task is None or (conversation_id not in self._pending and len(self._pending) >= MAX_CONVERSATIONS):
            await self._write(conversation_id, {status: message_ids[:MAX_RECEIPTS]})
            return
        pending = self._pending.setdefault(conversation_id, {})
        for message_id in message_ids[:MAX_RECEIPTS]:
            known = pending.get(message_id)
            if known is None or known.rank() < status.rank():
                pending[message_id] = status
        self._wakeup.set()

    async def flush(self) -> None:
        """Write everything gathered so far, each conversation on its own."""
        pending, self._pending = self._pending, {}
        groups = []
        for conversation_id, statuses in pending.items():
            by_status: dict[DeliveryStatus, list[str]] = {}
            for message_id, status in statuses.items():
                by_status.setdefault(status, []).append(message_id)
            groups.append(self._write(conversation_id, by_status))
        await asyncio.gather(*groups)

    async def _write(self, conversation_id: str, by_status: dict[DeliveryStatus, list[str]]) -> None:
        for status in sorted(by_status, key=lambda s: s.rank(), reverse=True):  # each message once, at its furthest
            try:
                self.writes += 1
                await self._core.receipts(conversation_id, by_status[status], status, Author.AGENT)
            except Exception:
                logger.exception("webchat.receipts.failed size=%d", len(by_status[status]))

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            await asyncio.sleep(GATHER_S)
            self._wakeup.clear()
            await self.flush()
