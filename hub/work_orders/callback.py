"""The callback survey's answers (回访): a customer's reply that answers an order in survey is
recorded on it, and a dissatisfied one ("1" or "2") reopens the order for a supervisor.

Reads replies the way the hub's other readers do: as ``MessageStored`` facts on the bus (a
subscriber; the message itself is stored whatever happens here). Which order a reply answers is
``hub.work_orders.survey``'s rule: the order it names, else the customer's one order in survey.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from hub.domain.events import MessageStored
from hub.domain.ids import Author
from hub.errors import ConcurrentUpdate, NotFound
from hub.ports import ConversationRecords
from hub.work_orders.model import WorkOrder, apply, with_survey
from hub.work_orders.service import WorkOrderDesk
from hub.work_orders.states import Action
from hub.work_orders.survey import SurveyAnswer, parse_answer

logger = logging.getLogger(__name__)


class SurveyReplies:
    def __init__(self, desk: WorkOrderDesk, conversations: ConversationRecords) -> None:
        self._desk = desk
        self._conversations = conversations

    async def on_message(self, fact: MessageStored) -> None:
        """Bus subscriber (``MessageStored``); answers are few, every other message costs a regex."""
        if fact.author is not Author.CUSTOMER:
            return
        answer = parse_answer(str(fact.message.get("text", "")))
        if answer is None:
            return
        try:
            conversation = await self._conversations.get(fact.conversation_id)
            order = await self.order_answered(conversation.contact_id, answer)
            if order is not None:
                await self.record(order, answer)
        except (ConcurrentUpdate, NotFound):
            logger.info("work_orders.survey.skipped conv=%s (changed meanwhile)", fact.conversation_id)

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
