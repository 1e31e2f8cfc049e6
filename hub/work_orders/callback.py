"""The callback survey's answers (回访): a customer's reply that answers an order in survey is
recorded on it, and a dissatisfied one ("1" or "2") reopens the order for a supervisor.

The customer inbox with the order survey in front (``hub.work_orders.inbox``) hands each reply here
as it comes in, before the channel acknowledges it (ADR 0066; a bus subscriber missed the answers
published while it re-subscribed). Which order a reply answers is ``hub.work_orders.survey``'s
rule: the order it names, else the customer's one order in survey. Recording is idempotent: an
answered order is no longer in survey, so a provider's redelivery records nothing twice.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from hub.errors import ConcurrentUpdate, NotFound
from hub.work_orders.model import WorkOrder, apply, with_survey
from hub.work_orders.service import WorkOrderDesk
from hub.work_orders.states import Action
from hub.work_orders.survey import SurveyAnswer

logger = logging.getLogger(__name__)


class SurveyReplies:
    def __init__(self, desk: WorkOrderDesk) -> None:
        self._desk = desk

    async def answer(self, contact_id: str, answer: SurveyAnswer, order: WorkOrder | None = None) -> None:
        """Record a customer's reply on the order it answers (``order`` when the caller found it).
        A storage failure propagates: the channel does not acknowledge and the reply comes again."""
        try:
            order = order or await self.order_answered(contact_id, answer)
            if order is not None:
                await self.record(order, answer)
        except (ConcurrentUpdate, NotFound):
            logger.info("work_orders.survey.skipped (changed meanwhile)")

    async def order_answered(self, contact_id: str, answer: SurveyAnswer) -> WorkOrder | None:
        asked = await self._desk.store.in_survey(contact_id)
        if answer.number is not None:
            return next((o for o in asked if o.number == answer.number), None)
        return asked[0] if len(asked) == 1 else None

    async def record(self, order: WorkOrder, answer: SurveyAnswer) -> WorkOrder:
        now = self._desk.clock.now()
        order = await self._desk.commit(with_survey(order, at=now, score=answer.score))
        logger.info("work_orders.survey.answered number=%s score=%d", order.number, answer.score)
        if not answer.dissatisfied:
            return order
        reopened = apply(order, Action.REOPEN, actor="survey", at=now,
                         text=f"the customer is dissatisfied (survey score {answer.score}); for a supervisor")
        return await self._desk.commit(replace(reopened, escalation="supervisor"))
