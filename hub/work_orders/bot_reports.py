"""The bot opens a repair order: a fault report the bot hands over as ``report_outage`` (an intent
only agents handle, by policy) that carries an address and a phone number becomes a repair order
before an agent picks the conversation up; the customer is told its number at once.

A subscriber of ``ConversationChanged`` (the seam), not a hook in the bot: every process gets the
fact, so the order's id is derived from the conversation and a second process's insert is refused.
"""

from __future__ import annotations

import logging
from typing import Protocol

from hub.domain.events import ConversationChanged, EventType
from hub.domain.model import Message
from hub.errors import HubError
from hub.ports import ConversationRecords
from hub.work_orders.kinds import OrderType
from hub.work_orders.reports import read_report
from hub.work_orders.service import WorkOrderDesk

logger = logging.getLogger(__name__)


class LastInbound(Protocol):
    async def last_inbound(self, conversation_id: str) -> Message | None: ...


class RepairReports:
    def __init__(self, desk: WorkOrderDesk, conversations: ConversationRecords, messages: LastInbound, *,
                 intent: str = "report_outage") -> None:
        self._desk = desk
        self._conversations = conversations
        self._messages = messages
        self._intent = intent

    async def on_changed(self, fact: ConversationChanged) -> None:
        """Bus subscriber: a conversation the bot handed over with the fault-report intent."""
        if fact.event is not EventType.HANDED_OVER:
            return
        try:
            await self.open_from(fact.conversation_id)
        except HubError:
            logger.info("work_orders.bot_report.skipped conv=%s", fact.conversation_id)

    async def open_from(self, conversation_id: str) -> str | None:
        """The number of the repair order opened from the conversation's report, or None."""
        doc = await self._conversations.get_doc(conversation_id)
        if (doc.get("handover") or {}).get("intent") != self._intent:
            return None
        last = await self._messages.last_inbound(conversation_id)
        if last is None:
            return None
        report = read_report(last.text, sender_phone=last.address if last.channel == "sms" else None)
        if report is None:
            return None  # not enough to open an order: the agent asks the rest
        order = await self._desk.create(None, conversation_id, OrderType.REPAIR, report.fields(),
                                        order_id=f"wo_bot_{conversation_id}")
        logger.info("work_orders.bot_report.opened number=%s conv=%s", order.number, conversation_id)
        return order.number
