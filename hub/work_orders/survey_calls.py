"""The callback survey by phone (I/O around ``hub.work_orders.call_survey``): the sweep starts and
retries the calls, the voice line (voice/order_survey.py) places them and reports what happened.

The sweep (one process, a lease) commits each attempt on the order and publishes
``SurveyCallDue``; the process holding the PBX line originates the call. Every step is an entry
in the order's history, so the conversation's timeline shows the calls (``WorkOrderDesk``).
"""

from __future__ import annotations

import logging

from hub.domain.events import SurveyCallDue
from hub.errors import ConcurrentUpdate, NotFound
from hub.ports import EventBus
from hub.work_orders.call_survey import CALLING, CallPolicy, Next, next_step, with_call, with_no_key, with_unanswered
from hub.work_orders.callback import SurveyReplies
from hub.work_orders.model import WorkOrder, with_survey
from hub.work_orders.service import WorkOrderDesk
from hub.work_orders.survey import SurveyAnswer

logger = logging.getLogger(__name__)


class SurveyCalls:
    def __init__(self, desk: WorkOrderDesk, replies: SurveyReplies, bus: EventBus, policy: CallPolicy) -> None:
        self._desk = desk
        self._replies = replies
        self._bus = bus
        self._policy = policy

    @staticmethod
    def callable(order: WorkOrder) -> bool:
        return bool(order.fields.get("phone"))

    # -- the sweep --------------------------------------------------------------------------------
    async def start(self, order: WorkOrder) -> int:
        """Call the customer of a closed order (the first or the next attempt); 1 if the order changed."""
        try:
            order = await self._desk.commit(with_call(order, at=self._desk.clock.now()))
        except (ConcurrentUpdate, NotFound):
            return 0
        await self._bus.publish(SurveyCallDue(order_id=order.id, version=order.version))
        logger.info("work_orders.survey_call.due number=%s", order.number)
        return 1

    async def sweep(self) -> int:
        """Orders whose survey call is not answered: call again after ``retry``, or fall back to SMS."""
        changed = 0
        for order in await self._desk.store.calling():
            step = next_step(order, self._desk.clock.now(), self._policy)
            if step is Next.CALL:
                changed += await self.start(order)
            elif step is Next.SMS:
                try:
                    await self._desk.commit(with_survey(order, at=self._desk.clock.now()))
                    changed += 1
                    logger.info("work_orders.survey_call.fallback_sms number=%s", order.number)
                except (ConcurrentUpdate, NotFound):
                    continue
        return changed

    # -- the voice line's port (voice/order_survey.py) -----------------------------------------------
    async def phone(self, order_id: str) -> tuple[str, str] | None:
        """The number to call and the customer's language, while the order's survey call is due."""
        order = await self._order(order_id)
        if order is None or order.survey != CALLING or not order.fields.get("phone"):
            return None
        return order.fields["phone"], order.language

    async def answered(self, order_id: str, score: int) -> None:
        order = await self._order(order_id)
        if order is None or order.survey != CALLING:
            return
        try:
            await self._replies.record(order, SurveyAnswer(order.number, score))
        except (ConcurrentUpdate, NotFound):
            logger.info("work_orders.survey_call.answer_lost number=%s (changed meanwhile)", order.number)

    async def not_reached(self, order_id: str, reason: str) -> None:
        order = await self._order(order_id)
        if order is not None and order.survey == CALLING:
            await self._commit(with_unanswered(order, at=self._desk.clock.now(), reason=reason))

    async def no_key(self, order_id: str) -> None:
        order = await self._order(order_id)
        if order is not None and order.survey == CALLING:
            await self._commit(with_no_key(order, at=self._desk.clock.now()))

    async def _order(self, order_id: str) -> WorkOrder | None:
        try:
            return await self._desk.store.get(order_id)
        except NotFound:
            return None

    async def _commit(self, order: WorkOrder) -> None:
        try:
            await self._desk.commit(order)
        except (ConcurrentUpdate, NotFound):
            logger.info("work_orders.survey_call.changed_meanwhile number=%s", order.number)
