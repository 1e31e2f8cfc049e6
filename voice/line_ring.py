"""The agents' phones (``voice.line``): their endpoints kept equal to the agent directory, and rung
for an offer or an outbound call (AMI ``Originate`` into the ``hub-agent`` dialplan)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from hub.call_ports import CallLine
from hub.domain.ids import AgentId, new_id
from hub.domain.model import Agent
from hub.domain.states import ConversationState
from hub.errors import ConcurrentUpdate, IllegalTransition, NotFound
from hub.ports import Directory
from voice.ami import AmiLost, AmiSession, succeeded
from voice.line_legs import LegActions
from voice.line_parts import Leg, LineConfig, LineState, dialable, originate_reason, replace_file
from voice.phones import phones_conf

logger = logging.getLogger(__name__)


class AgentPhones:
    def __init__(self, config: LineConfig, *, calls: CallLine, directory: Directory, legs: LegActions) -> None:
        self._config = config
        self._calls = calls
        self._directory = directory
        self._legs = legs
        self._agents: dict[str, Agent] = {}  # by id, for ringing (``_agent``)

    async def sync(self, ami: AmiSession, path: Path) -> None:
        """Keep Asterisk's agent endpoints equal to the agent directory: written (atomically) and
        PJSIP reloaded when they differ, checked every ``phones_sync_s`` (and at once after login)."""
        written: str | None = None
        while True:
            agents = await self._directory.agents()
            self._agents = {a.id: a for a in agents}
            text = phones_conf(agents, self._config.phone_secret)
            if text != written:
                await asyncio.to_thread(replace_file, path, text)
                answer = await ami.action({"Action": "Command", "Command": "pjsip reload"})
                if succeeded(answer):
                    written = text
                    logger.info("voice.phones.applied endpoints=%d", text.count("type = endpoint"))
                else:
                    logger.warning("voice.phones.reload_failed")
            await asyncio.sleep(self._config.phones_sync_s)

    async def ring(self, call_id: str, conversation_id: str, agent_id: AgentId) -> None:
        ami, state = self._legs.ami, self._legs.state
        if ami is None:
            return
        agent = await self._agent(agent_id)
        leg = Leg(call_id=call_id, conversation_id=conversation_id, agent_id=agent.id, unique_id=new_id("hub"))
        state.legs[leg.unique_id] = leg
        state.leg_of_call[call_id] = leg.unique_id
        # One write before the phone rings: the note returns the live call's record (None: it ended).
        record = await self._calls.ringing(call_id, agent.id, leg.unique_id)
        if record is None:
            state.forget_leg(leg)
            return
        recording = f"{record.call_id}-{len(record.recordings) + 1}"
        timeout_s = self._config.ring_timeout_s
        variables = [f"HUB_CALL={call_id}", f"HUB_REC={recording}"]
        if record.caller_channel is None:  # a call back: once she answers, her leg dials the customer
            exten = "callback"
            variables.append(f"HUB_DIAL={self._config.dial_out.format(number=dialable(record.caller))}")
            if self._legs.survey_on:  # her hang-up sends the customer to the survey (Dial's F option)
                variables.append("HUB_SURVEY=yes")
                leg.dial_to_survey = True
        else:  # the caller waits with music on hold: her leg bridges to it
            exten = "bridge"
            variables.append(f"HUB_CALLER={record.caller_channel}")
        try:
            answer = await ami.action({
                "Action": "Originate", "Channel": self._endpoint(agent), "Context": "hub-agent", "Exten": exten,
                "Priority": "1", "Timeout": str(int(timeout_s * 1000)), "Async": "true", "ChannelId": leg.unique_id,
                "CallerID": f"Hub <{conversation_id}>", "Variable": variables,
            }, timeout_s=timeout_s + self._config.ami_timeout_s)
        except AmiLost:
            answer = None
        reason = originate_reason(answer)
        if reason != "answered":
            state.forget_leg(leg)
            await self._calls.not_answered(call_id, agent.id, reason)
            logger.info("voice.ring.not_answered call=%s agent=%s reason=%s", call_id, agent.id, reason)
            return
        leg.answered = True
        try:
            await self._calls.answered(call_id, agent.id, leg.unique_id, recording)
        except (IllegalTransition, ConcurrentUpdate, NotFound) as err:
            # The offer went away while she answered (the caller hung up, or it timed out): let her go.
            logger.info("voice.ring.answered_too_late call=%s agent=%s reason=%s", call_id, agent.id, err.code)
            state.forget_leg(leg)
            await self._legs.hang_up_channel(leg.unique_id)
            return
        logger.info("voice.ring.answered call=%s agent=%s", call_id, agent.id)

    async def _agent(self, agent_id: AgentId) -> Agent:
        """The agent to ring, without a read per offer: her endpoint derives from her id and username,
        which never change, so an agent read once is kept; the sync replaces them all."""
        agent = self._agents.get(agent_id)
        if agent is None:
            agent = self._agents[agent_id] = await self._directory.agent(agent_id)
        return agent

    def _endpoint(self, agent: Agent) -> str:
        return self._config.agent_endpoint.format(username=agent.username, agent_id=agent.id)


async def unrung_offers(calls: CallLine, state: LineState) -> list[tuple[str, str, AgentId]]:
    """(call, conversation, agent) of this line's waiting calls that are offered to an agent whose
    phone does not ring: their ``OfferMade`` was lost in a bus gap (ADR 0066). One read per call."""
    found = []
    for conversation_id, call_id in list(state.calls_of.items()):
        if call_id in state.leg_of_call:
            continue  # ringing or talking
        try:
            conversation = await calls.conversation(conversation_id)
        except NotFound:
            continue
        if conversation.state is ConversationState.OFFERED and conversation.agent_id:
            found.append((call_id, conversation_id, AgentId(conversation.agent_id)))
    return found
