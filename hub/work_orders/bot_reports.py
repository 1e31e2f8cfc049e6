"""The bot opens a repair order (``bot.service.IntentAnswers``): a report of a fault with an address
and a phone number, recognised as the outage-report intent, becomes a work order and the bot's
answer names it. Attached to the work-order desk once it exists (the bot is built first)."""

from __future__ import annotations

import logging
from typing import Protocol

from hub.domain.model import Conversation, Message
from hub.errors import HubError
from hub.work_orders.kinds import OrderType
from hub.work_orders.reports import bot_answer, read_report
from hub.work_orders.service import WorkOrderDesk
from hub.work_orders.states import OrderState
from hub.work_orders.sweep import SlaPolicy

logger = logging.getLogger(__name__)


class LastInbound(Protocol):
    async def last_inbound(self, conversation_id: str) -> Message | None: ...


class RepairReports:
    def __init__(self, intent: str = "report_outage") -> None:
        self._intent = intent
        self._desk: WorkOrderDesk | None = None
        self._messages: LastInbound | None = None
        self._policy: SlaPolicy | None = None

    def attach(self, desk: WorkOrderDesk, messages: LastInbound, policy: SlaPolicy) -> None:
        self._desk, self._messages, self._policy = desk, messages, policy

    async def answer(self, *, intent: str, conversation: Conversation, text: str, language: str) -> str | None:
        if intent != self._intent or self._desk is None or self._messages is None or self._policy is None:
            return None
        last = await self._messages.last_inbound(conversation.id)
        sender = last.address if last is not None and last.channel == "sms" else None
        report = read_report(text, sender_phone=sender)
        if report is None:
            return None  # not enough to open an order: the bot's turn goes on (a person asks the rest)
        for order in await self._desk.store.find(conversation_id=conversation.id):
            if order.type is OrderType.REPAIR and order.state is not OrderState.CLOSED:
                return None  # one repair per conversation at a time; the agents see it in the list
        try:
            order = await self._desk.create(None, conversation.id, OrderType.REPAIR, report.fields(), notify=False)
        except HubError:
            logger.warning("work_orders.bot_report.refused conv=%s", conversation.id, exc_info=True)
            return None
        minutes = int(self._policy.templates.of(OrderType.REPAIR, report.area.value).first_response.amount)
        return bot_answer(language=language, number=order.number, minutes=minutes)
