"""The console's call controls on the PBX (``voice.line``): hold, resume, transfer and hang up become
AMI ``Redirect``, ``Bridge`` and ``Hangup`` in the process holding the line (from another process they
arrive as ``CallCommand`` facts); a call's conversation resolved while the customer is on the line ends
the agent's leg (``end_resolved``)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from hub.call_ports import CallLine
from hub.domain.events import CallCommand
from hub.domain.ids import AgentId
from hub.errors import ConcurrentUpdate, HubError, IllegalTransition, NotFound, ServiceUnavailable
from hub.ports import Directory
from voice.ami import AmiLost
from voice.line_legs import LegActions

logger = logging.getLogger(__name__)


class CallCommands:
    def __init__(self, *, legs: LegActions, calls: CallLine, directory: Directory,
                 ring: Callable[[CallCommand], None]) -> None:
        self._legs = legs
        self._calls = calls
        self._directory = directory
        self._ring = ring  # starts ringing her phone for an outbound call (``VoiceLine._ring``)

    async def execute(self, command: CallCommand) -> None:
        legs = self._legs
        if legs.ami is None:
            raise ServiceUnavailable("the phone system is not connected")
        if command.action == "ring" and command.conversation_id is not None:  # an outbound call
            self._ring(command)
            return
        record = await self._calls.call(command.call_id)
        if record is None or not record.live or record.agent_leg is None:
            raise NotFound("this call is over")
        state = legs.state
        agent_channel = state.channels.get(record.agent_leg)
        if command.action == "hangup":
            if legs.surveyed(record):  # her leg ends: the customer stays for the survey (``VoiceLine``)
                await legs.hang_up_channel(record.agent_leg)
                return
            await legs.hang_up_customer(record)
            if record.caller_channel is None:  # a call back still dialling: her own leg ends the call
                await legs.hang_up_channel(record.agent_leg)
            return
        if record.caller_channel is None:
            raise IllegalTransition("the customer is not on the line yet")
        if command.action == "hold":
            if agent_channel is None:
                raise NotFound("the agent's leg is gone")
            await legs.require({"Action": "Redirect", "Channel": record.caller_channel, "Context": "hub-hold",
                                "Exten": "s", "Priority": "1", "ExtraChannel": agent_channel,
                                "ExtraContext": "hub-held", "ExtraExten": "s", "ExtraPriority": "1"})
            leg = state.legs.get(record.agent_leg)
            if leg is not None:
                leg.dial_to_survey = False  # her Dial is over: from now on the hub sends the customer
            await self._calls.held(record.call_id, True)
        elif command.action == "resume":
            if agent_channel is None:
                raise NotFound("the agent's leg is gone")
            await legs.require({"Action": "Bridge", "Channel1": agent_channel,
                                "Channel2": record.caller_channel, "Tone": "no"})
            await self._calls.held(record.call_id, False)
        elif command.action == "transfer" and command.target and command.target.startswith("queue:"):
            agent = await self._directory.agent(command.agent_id)
            state.leg_of_call.pop(record.call_id, None)  # her leg's end is no longer the call's
            state.legs.pop(record.agent_leg, None)
            await self._calls.transferred(record.call_id, agent, command.target.removeprefix("queue:"))
            await legs.require({"Action": "Redirect", "Channel": record.caller_channel, "Context": "hub-wait",
                                "Exten": "s", "Priority": "1"})
            await legs.hang_up_channel(record.agent_leg)
        else:
            raise IllegalTransition(f"unknown call command {command.action!r}")

    async def end_resolved(self, conversation_id: str) -> None:
        """The agent (or a supervisor) resolved a call's conversation with the customer still on the
        line: her leg ends as her hang-up would, so the customer hears the survey (or, surveys off, the
        call ends) instead of staying bridged to a finished conversation."""
        record = await self._calls.call_of(conversation_id)
        if record is None or not record.live or record.answered_at is None or record.agent_leg is None:
            return  # no talking call (a waiting call resolved by a supervisor is withdrawn by routing)
        command = CallCommand(call_id=record.call_id, conversation_id=record.conversation_id, action="hangup",
                              agent_id=AgentId(record.agent_id or ""))
        try:
            await self.execute(command)
        except (HubError, ConcurrentUpdate, AmiLost) as err:
            logger.warning("voice.resolved.hangup_failed call=%s reason=%s", record.call_id,
                           getattr(err, "code", type(err).__name__))
        logger.info("voice.resolved.on_the_line call=%s", record.call_id)
