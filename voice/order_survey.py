"""A closed work order's callback survey as an outbound call (issue 15): the hub calls the
customer, asks the question and reads one key (voice/keypad_survey.py).

``SurveyCallDue`` (published by the work orders' sweep) reaches every process; the one holding the
PBX line originates the call into the dialplan's ``hub-order-survey`` (``HUB_ORDER``: the order's
id), whose AGI step ``order_survey`` asks. Not answered, busy or failed: the port hears why and the
sweep calls again later or sends the SMS question instead (hub/work_orders/call_survey.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from hub.domain.events import Fact, SurveyCallDue
from hub.domain.ids import new_id
from voice.agi import AgiSession, CallGone
from voice.ami import AmiLost, AmiSession
from voice.keypad_survey import PhonePrompts, SurveyPrompts, ask
from voice.line_parts import dialable, originate_reason
from voice.tts import SpeechFailed

logger = logging.getLogger(__name__)


class OrderSurveyPort(Protocol):
    """The work orders' side (``hub.work_orders.survey_calls.SurveyCalls``)."""

    async def phone(self, order_id: str) -> tuple[str, str] | None: ...

    async def answered(self, order_id: str, score: int) -> None: ...

    async def not_reached(self, order_id: str, reason: str) -> None: ...

    async def no_key(self, order_id: str) -> None: ...


class OrderSurveyCalls:
    """``on_due`` is the bus subscriber; ``__call__`` the AGI script ``order_survey``."""

    def __init__(self, *, port: OrderSurveyPort, ami: Callable[[], AmiSession | None], dial_out: str,
                 ring_timeout_s: float, ami_timeout_s: float, prompts: PhonePrompts, texts: SurveyPrompts) -> None:
        self._port = port
        self._ami = ami
        self._dial_out = dial_out
        self._ring_timeout_s = ring_timeout_s
        self._ami_timeout_s = ami_timeout_s
        self._prompts = prompts
        self._texts = texts
        self._calls: set[asyncio.Task[None]] = set()

    async def on_due(self, fact: Fact) -> None:
        assert isinstance(fact, SurveyCallDue)
        if self._ami() is None:
            return  # another process holds the line (or none: the sweep counts the attempt as unanswered later)
        task = asyncio.create_task(self._call(fact.order_id), name=f"voice:order_survey:{fact.order_id}")
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)

    async def _call(self, order_id: str) -> None:
        target = await self._port.phone(order_id)
        ami = self._ami()
        if target is None or ami is None:
            return
        number = dialable(target[0])
        try:
            answer = await ami.action({
                "Action": "Originate", "Channel": self._dial_out.format(number=number), "Context": "hub-order-survey",
                "Exten": "s", "Priority": "1", "Timeout": str(int(self._ring_timeout_s * 1000)), "Async": "true",
                "ChannelId": new_id("hub"), "CallerID": "Northgrid survey <95598>",
                "Variable": [f"HUB_ORDER={order_id}"],
            }, timeout_s=self._ring_timeout_s + self._ami_timeout_s)
        except AmiLost:
            answer = None
        reason = originate_reason(answer)
        if reason != "answered":
            logger.info("voice.order_survey.not_answered order=%s reason=%s", order_id, reason)
            await self._port.not_reached(order_id, reason)

    async def __call__(self, session: AgiSession) -> None:
        reply = await session.command("GET VARIABLE HUB_ORDER")
        order_id = (reply.data or "").strip()
        if not order_id or await self._port.phone(order_id) is None:
            logger.info("voice.order_survey.skipped reason=not_due")
            return
        try:
            score = await ask(session, self._prompts, self._texts)
        except SpeechFailed as err:
            logger.warning("voice.order_survey.no_prompt order=%s reason=%s", order_id, err)
            score = None
        except CallGone:
            await self._port.no_key(order_id)
            raise
        if score is None:
            await self._port.no_key(order_id)
            logger.info("voice.order_survey.no_key order=%s", order_id)
            return
        await self._port.answered(order_id, score)
        logger.info("voice.order_survey.answered order=%s", order_id)
