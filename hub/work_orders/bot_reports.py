"""The bot opens a repair order: a fault report the bot hands over as ``report_outage`` (an intent
only agents handle, by policy) that carries an address and a phone number becomes a repair order
before an agent picks the conversation up; the customer is told its number at once.

A durable consumer of the event table (``hub.consumers``, ADR 0066), not a hook in the bot and no
longer a bus subscriber: a handover stored while a process was re-subscribing to the bus, or while
no hub ran, still opens its order. At least once: the order's id is derived from the conversation,
so a batch read again (or a second process) is refused the insert. Handovers older than ``max_age``
are passed over, so a new hub (or a replay) opens no orders for the history.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

from hub.domain.events import EventType
from hub.domain.model import Message
from hub.domain.stream import StoredEvent
from hub.errors import HubError, NotFound
from hub.ports import ConversationRecords
from hub.work_orders.kinds import OrderType
from hub.work_orders.reports import read_report
from hub.work_orders.service import WorkOrderDesk

logger = logging.getLogger(__name__)


class LastInbound(Protocol):
    async def last_inbound(self, conversation_id: str) -> Message | None: ...


MAX_AGE = timedelta(hours=2)  # a report older than this when first read opens no order (a new hub, a replay)


class RepairReports:
    """``hub.consumers.DurableConsumer`` named ``work_orders_bot_reports``."""

    name = "work_orders_bot_reports"

    def __init__(self, desk: WorkOrderDesk, conversations: ConversationRecords, messages: LastInbound, *,
                 intent: str = "report_outage", max_age: timedelta = MAX_AGE) -> None:
        self._desk = desk
        self._conversations = conversations
        self._messages = messages
        self._intent = intent
        self._max_age = max_age

    async def handle(self, batch: Sequence[StoredEvent]) -> None:
        """The conversations the bot handed over (read on, by ``open_from``, for the intent)."""
        oldest = self._desk.clock.now() - self._max_age
        for event in batch:
            if event.type != EventType.HANDED_OVER or event.at < oldest:
                continue
            try:
                await self.open_from(event.conversation_id)
            except HubError:  # already opened (a batch read again), or the conversation is gone
                logger.info("work_orders.bot_report.skipped conv=%s", event.conversation_id)

    async def reset(self) -> None:
        """Nothing to drop: orders are records, not a projection; a replay opens none twice."""
        logger.warning("work_orders.bot_reports.reset (orders kept; none is opened twice)")

    async def open_from(self, conversation_id: str) -> str | None:
        """The number of the repair order opened from the conversation's report, or None."""
        doc = await self._conversations.get_doc(conversation_id, with_line=False)
        if (doc.get("handover") or {}).get("intent") != self._intent:
            return None
        last = await self._messages.last_inbound(conversation_id)
        if last is None:
            return None
        report = read_report(last.text, sender_phone=last.address if last.channel == "sms" else None)
        if report is None:
            return None  # not enough to open an order: the agent asks the rest
        order_id = f"wo_bot_{conversation_id}"
        with contextlib.suppress(NotFound):  # read again (at least once): opened already, no number burnt
            return (await self._desk.store.get(order_id)).number
        order = await self._desk.create(None, conversation_id, OrderType.REPAIR, report.fields(), order_id=order_id)
        logger.info("work_orders.bot_report.opened number=%s conv=%s", order.number, conversation_id)
        return order.number
