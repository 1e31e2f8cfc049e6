"""The voice line's reconciliation at every AMI login (``voice.line``): each call MongoDB says is live
is looked up among the PBX's channels (``CoreShowChannels``). A call whose customer is gone is ended
(``lost``), one whose agent leg is gone is ended by the agent, a ringing one is put back in line. So an
AMI drop or a hub restart loses no call and no fact that changes a KPI."""

from __future__ import annotations

import contextlib
import logging

from hub.call_ports import CallLine
from hub.domain.calls import Party
from hub.errors import ConcurrentUpdate, HubError
from voice.ami import AmiSession
from voice.line_legs import LegActions
from voice.line_parts import Leg, ringing_agent

logger = logging.getLogger(__name__)


async def reconcile(ami: AmiSession, calls: CallLine, legs: LegActions) -> None:
    """Fill ``legs.state`` (bound to this login) from the PBX and the live calls."""
    state = legs.state
    applications: dict[str, str] = {}  # unique id -> the dialplan application it runs
    answer = await ami.action({"Action": "CoreShowChannels"}, as_list=True)
    for item in answer if isinstance(answer, list) else []:
        if item.get("Event") == "CoreShowChannel" and item.get("Uniqueid"):
            state.channels[str(item["Uniqueid"])] = str(item.get("Channel", ""))
            applications[str(item["Uniqueid"])] = str(item.get("Application", ""))
    live = state.channels
    for record in await calls.live_calls():
        if record.awaiting_callback and record.caller_channel is None:
            state.calls_of[record.conversation_id] = record.call_id  # waits for an agent, no line
            continue
        customer = state.unique_id_of(record.caller_channel)
        if customer is None:
            await calls.hung_up(record.call_id, Party.SYSTEM, lost=True)
            if record.agent_leg:
                await legs.hang_up_channel(record.agent_leg)
            continue
        state.calls_of[record.conversation_id] = record.call_id
        if record.agent_leg is None:
            continue  # waiting: it keeps its place; routing's offer rings again
        if record.answered_at is None:  # it rang while we were away: put it back in line
            await legs.hang_up_channel(record.agent_leg)
            with contextlib.suppress(HubError, ConcurrentUpdate):
                await calls.not_answered(record.call_id, ringing_agent(record), "reconnected")
            continue
        if customer != record.call_id:
            state.customer_legs[customer] = record.call_id  # a call back's customer leg
        if record.agent_leg not in live:
            await calls.hung_up(record.call_id, Party.AGENT, lost=True)
            await legs.hang_up_customer(record)
            continue
        # Her leg still in its Dial (a call back, an outbound call): the dialplan's F option holds.
        in_dial = record.callback and applications.get(record.agent_leg) == "Dial"
        leg = Leg(call_id=record.call_id, conversation_id=record.conversation_id, agent_id=record.agent_id or "",
                  unique_id=record.agent_leg, answered=True, dial_to_survey=in_dial and legs.surveyed(record))
        state.legs[leg.unique_id] = leg
        state.leg_of_call[record.call_id] = leg.unique_id
    logger.info("voice.line.reconciled channels=%d", len(live))
