"""The voice line's hands on the PBX: hang up a leg, send the customer to the survey (``voice.line``).

One ``LegActions`` per line; ``bind`` gives it the AMI session and the line's picture of the PBX
for one login (``unbind`` when it ends: every action is then a no-op or ``ServiceUnavailable``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from hub.domain.calls import CallRecord, Party
from hub.errors import IllegalTransition, ServiceUnavailable
from voice.ami import AmiLost, AmiSession, succeeded
from voice.line_parts import Leg, LineState, surveyed

AFTER_CALL = "hub-after-call"  # the dialplan's survey context (voice/dialplan.py)


class LegActions:
    def __init__(self, *, survey_on: bool) -> None:
        self.survey_on = survey_on  # the survey after a call is configured and its AGI script served
        self.ami: AmiSession | None = None
        self.state = LineState()

    def bind(self, ami: AmiSession, state: LineState) -> None:
        self.ami, self.state = ami, state

    def unbind(self) -> None:
        self.ami = None

    def surveyed(self, record: CallRecord) -> bool:
        return surveyed(self.survey_on, record)

    async def require(self, action: Mapping[str, str]) -> None:
        """Send ``action``; ``IllegalTransition`` when the PBX refuses it."""
        ami = self.ami
        if ami is None:
            raise ServiceUnavailable("the phone system is not connected")
        if not succeeded(await ami.action(action)):
            raise IllegalTransition(f"the phone system refused {action['Action']}")

    async def to_survey(self, record: CallRecord, leg: Leg | None) -> bool:
        """The agent's leg ended: the customer goes to the survey instead of being hung up; False: not
        done (surveys off, the customer gone, the PBX refused). Her leg's ``Dial`` with the ``F`` option
        took the customer there already (a call back or an outbound call not held since): nothing to send."""
        customer = self.state.unique_id_of(record.caller_channel)
        if self.ami is None or customer is None or not self.surveyed(record):
            return False
        if leg is not None and leg.dial_to_survey:
            self.state.hangups[customer] = Party.AGENT
            return True
        with contextlib.suppress(AmiLost):
            answer = await self.ami.action({"Action": "Redirect", "Channel": str(record.caller_channel),
                                            "Context": AFTER_CALL, "Exten": "s", "Priority": "1"})
            if succeeded(answer):
                self.state.hangups[customer] = Party.AGENT
                return True
        return False

    async def hang_up_customer(self, record: CallRecord) -> None:
        """Hang up the customer's current leg; its Hangup event then reads as the agent's doing."""
        customer = self.state.unique_id_of(record.caller_channel)
        if customer is not None:
            self.state.hangups[customer] = Party.AGENT
            await self.hang_up_channel(customer)

    async def hang_up_channel(self, unique_id: str) -> None:
        """Hang up the channel with this unique id, if it is still there."""
        ami, channel = self.ami, self.state.channels.get(unique_id)
        if ami is None or channel is None:
            return
        with contextlib.suppress(AmiLost):
            await ami.action({"Action": "Hangup", "Channel": channel, "Cause": "16"})
