"""The voice line: the hub's side of the PBX, in one process at a time (lease ``voice:line``).

It serves the menu over FastAGI, logs into the AMI, and turns what happens into call steps and
transitions through ``hub.call_ports.CallLine``:

- our ACD offers a queued call (``OfferMade``) → the agent's phone is rung (AMI ``Originate`` into
  the ``hub-agent`` dialplan, which records and bridges her to the waiting caller); answered →
  ``answered`` (the offer is accepted); no answer, busy or refused → ``not_answered`` (the next agent);
- a hang-up (AMI ``Hangup``) of the caller or of the agent's answered leg → ``hung_up`` (abandoned
  while waiting, after-call work while talking) and the other leg is hung up too;
- the console's hold, resume, transfer and hang-up (``CallControl``) become AMI ``Redirect``,
  ``Bridge`` and ``Hangup``; from another process they arrive as ``CallCommand`` facts.

On every login it reconciles: each call MongoDB says is live is looked up among the PBX's channels
(``CoreShowChannels``); a call whose caller is gone is ended (``lost``), one whose agent leg is gone
is ended by the agent, a ringing one is put back in line. So an AMI drop or a hub restart loses no
call and no fact that changes a KPI.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.call_ports import CallLine
from hub.domain.calls import CallRecord, Party, Step
from hub.domain.events import CallCommand, Fact, OfferMade, OfferWithdrawn
from hub.domain.ids import AgentId, new_id
from hub.domain.model import Agent
from hub.domain.states import ConversationState
from hub.errors import ConcurrentUpdate, HubError, IllegalTransition, NotFound, ServiceUnavailable
from hub.ports import Directory, EventBus
from hub.supervisor import Health
from voice.agi import AgiServer, Script
from voice.ami import AmiEvent, AmiLost, AmiSession, succeeded
from voice.bot_calls import BotCalls
from voice.ivr import InboundMenu, Prompts
from voice.menu import Menu
from voice.phones import phones_conf

logger = logging.getLogger(__name__)
S = ConversationState

EVENTS = ("Newchannel", "Hangup", "DialBegin", "DialEnd", "UserEvent")
CUSTOMER_LEFT = "HubCustomerLeft"  # the dialplan: the agent's leg goes on because the customer left
ORIGINATE_REASONS = {"0": "failed", "1": "no_such_number", "3": "no_answer", "4": "answered", "5": "busy",
                     "8": "congestion"}


@dataclass(frozen=True, slots=True, kw_only=True)
class LineConfig:
    ami_host: str
    ami_port: int
    ami_user: str
    ami_secret: str
    ami_timeout_s: float
    ami_ping_s: float
    agi_host: str
    agi_port: int
    agi_timeout_s: float
    agent_endpoint: str  # "PJSIP/agent-{username}"
    dial_out: str  # "PJSIP/{number}@trunk": a call back to the customer
    ring_timeout_s: float
    menu: Menu
    prompts: Prompts
    digit_timeout_s: float
    phones_file: Path | None = None  # where the agents' endpoints go (pjsip_agents.conf); None: not ours
    phone_secret: bytes = b""  # derives the agents' SIP passwords (voice/phones.py)
    phones_sync_s: float = 10.0
    survey_after_call: bool = False  # the agent hung up: the caller goes to the keypad survey (``hub-after-call``)


@dataclass(slots=True)
class Leg:
    """An agent's leg this line originated (``unique_id`` is ours: AMI ``ChannelId``)."""

    call_id: str
    conversation_id: str
    agent_id: str
    unique_id: str
    answered: bool = False


@dataclass(slots=True)
class LineState:
    """What the line knows of the PBX right now (rebuilt at every login)."""

    channels: dict[str, str] = field(default_factory=dict)  # unique id -> channel name
    calls_of: dict[str, str] = field(default_factory=dict)  # conversation id -> call id
    legs: dict[str, Leg] = field(default_factory=dict)  # agent leg unique id -> leg
    leg_of_call: dict[str, str] = field(default_factory=dict)  # call id -> its current agent leg
    hangups: dict[str, Party] = field(default_factory=dict)  # customer leg id -> who asked the hub to hang up
    customer_legs: dict[str, str] = field(default_factory=dict)  # a call back's customer leg id -> call id
    left_by_customer: set[str] = field(default_factory=set)  # agent legs whose customer hung up


class VoiceLine:
    """Implements ``hub.call_ports.CallControl``; ``run`` is the supervised loop (``channels:voice:line``)."""

    def __init__(self, config: LineConfig, *, calls: CallLine, directory: Directory,
                 bot: BotCalls | None = None) -> None:
        self._config = config
        self._calls = calls
        self._directory = directory
        self._bot = bot  # the voice bot (voice.bot_calls), when configured
        self._bus: EventBus | None = None  # set by ``listen``
        self._ami: AmiSession | None = None
        self._state = LineState()
        self._events: asyncio.Queue[AmiEvent] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._agents: dict[str, Agent] = {}  # by id, for ringing (``_agent``)
        self.agi_port: int | None = None  # bound port while the line runs (tests pass 0)
        self._scripts: dict[str, Script] = {}  # AGI scripts of other parts (the surveys), by name

    @property
    def ami(self) -> AmiSession | None:
        """The AMI session while this process holds the line (None otherwise)."""
        return self._ami

    def add_script(self, name: str, script: Script) -> None:
        """Wiring: serve ``script`` over FastAGI as ``name`` (the keypad surveys, voice/keypad_survey.py)."""
        self._scripts[name] = script

    # -- wiring -----------------------------------------------------------------------------------
    def listen(self, bus: EventBus) -> None:
        """Wiring: offers ring phones; commands from other processes' consoles arrive here."""
        self._bus = bus
        bus.subscribe(OfferMade, self._on_offer, subscriber="voice:offers")
        bus.subscribe(OfferWithdrawn, self._on_withdrawn, subscriber="voice:withdrawn")
        bus.subscribe(CallCommand, self._on_command, subscriber="voice:commands")

    # -- the supervised loop ----------------------------------------------------------------------
    async def run(self, health: Health) -> None:
        config = self._config
        menu = InboundMenu(line=self._calls, menu=config.menu, prompts=config.prompts,
                           digit_timeout_s=config.digit_timeout_s, on_queued=self._queued, bot=self._bot)
        scripts: dict[str, Script] = {**self._scripts, "inbound": menu}
        if self._bot is not None:
            scripts["bot_done"] = self._bot.done
            self._bot.on_queued = self._queued
            self._bot.publish = self._bus.publish if self._bus is not None else None
        agi = AgiServer(scripts, timeout_s=config.agi_timeout_s)
        self._state = LineState()
        self._events = asyncio.Queue()
        bot_stack = contextlib.AsyncExitStack()
        try:
            async with AmiSession(host=config.ami_host, port=config.ami_port, user=config.ami_user,
                                  secret=config.ami_secret, timeout_s=config.ami_timeout_s,
                                  ping_s=config.ami_ping_s, events=EVENTS, on_event=self._events.put_nowait) as ami:
                self._ami = ami
                await self._reconcile(ami)
                self.agi_port = await agi.start(config.agi_host, config.agi_port)
                if self._bot is not None:  # the speech models load (seconds) before the line is up
                    await bot_stack.enter_async_context(self._bot.running())
                health.up()
                logger.info("voice.line.up agi_port=%d", self.agi_port)
                async with asyncio.TaskGroup() as group:
                    group.create_task(ami.watch())
                    group.create_task(self._consume())
                    if config.phones_file is not None:
                        group.create_task(self._sync_phones(ami, config.phones_file))
        except* AmiLost as lost:
            raise lost.exceptions[0] from None
        finally:
            self._ami = None
            await agi.close()
            await bot_stack.aclose()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _consume(self) -> None:
        while True:
            event = await self._events.get()
            try:
                await self._on_event(event)
            except (HubError, ConcurrentUpdate) as err:
                logger.warning("voice.event.refused event=%s reason=%s", event.get("Event"), err.code)

    async def _sync_phones(self, ami: AmiSession, path: Path) -> None:
        """Keep Asterisk's agent endpoints equal to the agent directory: written (atomically) and
        PJSIP reloaded when they differ, checked every ``phones_sync_s`` (and at once after login)."""
        written: str | None = None
        while True:
            agents = await self._directory.agents()
            self._agents = {a.id: a for a in agents}
            text = phones_conf(agents, self._config.phone_secret)
            if text != written:
                await asyncio.to_thread(_replace_file, path, text)
                answer = await ami.action({"Action": "Command", "Command": "pjsip reload"})
                if succeeded(answer):
                    written = text
                    logger.info("voice.phones.applied endpoints=%d", text.count("type = endpoint"))
                else:
                    logger.warning("voice.phones.reload_failed")
            await asyncio.sleep(self._config.phones_sync_s)

    def _queued(self, conversation_id: str, call_id: str) -> None:
        self._state.calls_of[conversation_id] = call_id

    def _spawn(self, work: Any, name: str) -> None:
        task: asyncio.Task[None] = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("voice.task.failed task=%s", task.get_name(), exc_info=task.exception())

    # -- PBX events -------------------------------------------------------------------------------
    async def _on_event(self, event: AmiEvent) -> None:
        unique_id, name = event.get("Uniqueid", ""), event.get("Event")
        if name == "Newchannel":
            self._state.channels[unique_id] = event.get("Channel", "")
        elif name in ("DialBegin", "DialEnd"):
            await self._on_dial(event)
        elif name == "Hangup":
            await self._on_hangup(unique_id)
        elif name == "UserEvent" and event.get("UserEvent") == CUSTOMER_LEFT and unique_id in self._state.legs:
            self._state.left_by_customer.add(unique_id)

    async def _on_dial(self, event: AmiEvent) -> None:
        """A call back: the agent's leg (ours) dials the customer (``DialBegin``), who answers or not."""
        leg = self._state.legs.get(event.get("Uniqueid", ""))
        customer = event.get("DestUniqueid", "")
        if leg is None or not customer:
            return
        if event.get("Event") == "DialBegin":
            self._state.customer_legs[customer] = leg.call_id
            self._state.channels[customer] = event.get("DestChannel", "")
            await self._calls.dialing(leg.call_id)
        elif event.get("DialStatus") == "ANSWER":
            await self._calls.connected(leg.call_id, event.get("DestChannel", ""))
        else:
            logger.info("voice.callback.not_answered call=%s status=%s", leg.call_id, event.get("DialStatus"))

    async def _on_hangup(self, unique_id: str) -> None:
        self._state.channels.pop(unique_id, None)
        leg = self._state.legs.get(unique_id)
        if leg is not None:
            await self._agent_leg_gone(leg)
            return
        call_id = self._state.customer_legs.pop(unique_id, unique_id)
        party = self._state.hangups.pop(unique_id, Party.CALLER)
        record = await self._calls.hung_up(call_id, party)
        if record is None or record.live:
            return  # not a call of ours, or a call back that keeps its place
        leg_id = self._state.leg_of_call.pop(call_id, None)
        if leg_id is not None:
            self._state.legs.pop(leg_id, None)
            await self._hang_up_channel(leg_id)
        self._state.calls_of.pop(record.conversation_id, None)

    async def _agent_leg_gone(self, leg: Leg) -> None:
        self._state.legs.pop(leg.unique_id, None)
        customer_left = leg.unique_id in self._state.left_by_customer
        self._state.left_by_customer.discard(leg.unique_id)
        if self._state.leg_of_call.get(leg.call_id) != leg.unique_id:
            return  # a leg let go (transfer): its end is not the call's
        if not leg.answered:
            return  # ringing ended: the Originate's answer says why (``_ring``)
        self._state.leg_of_call.pop(leg.call_id, None)
        party = self._customer_hangup(leg.call_id) if customer_left else Party.AGENT
        record = await self._calls.hung_up(leg.call_id, party)
        if record is not None:
            self._state.calls_of.pop(record.conversation_id, None)
            if party is Party.AGENT and await self._to_survey(record):
                return
            await self._hang_up_customer(record)

    def _customer_hangup(self, call_id: str) -> Party:
        """Who ended the customer's leg of ``call_id``: the agent when the hub hung it up for her."""
        customer = next((uid for uid, call in self._state.customer_legs.items() if call == call_id), call_id)
        return self._state.hangups.get(customer, Party.CALLER)

    # -- offers: ring the agent's phone -------------------------------------------------------------
    async def _on_offer(self, fact: Fact) -> None:
        assert isinstance(fact, OfferMade)
        call_id = self._state.calls_of.get(fact.conversation_id)
        if self._ami is not None and call_id is not None:
            self._spawn(self._ring(call_id, fact.conversation_id, fact.agent_id), f"voice:ring:{call_id}")

    async def _on_withdrawn(self, fact: Fact) -> None:
        assert isinstance(fact, OfferWithdrawn)
        call_id = self._state.calls_of.get(fact.conversation_id)
        leg_id = self._state.leg_of_call.get(call_id or "")
        leg = self._state.legs.get(leg_id or "")
        if leg is not None and not leg.answered and self._ami is not None:
            await self._hang_up_channel(leg.unique_id)  # the offer timed out in routing: stop the ringing

    async def _ring(self, call_id: str, conversation_id: str, agent_id: AgentId) -> None:
        ami = self._ami
        if ami is None:
            return
        agent = await self._agent(agent_id)
        leg = Leg(call_id=call_id, conversation_id=conversation_id, agent_id=agent.id, unique_id=new_id("hub"))
        self._state.legs[leg.unique_id] = leg
        self._state.leg_of_call[call_id] = leg.unique_id
        # One write before the phone rings: the note returns the live call's record (None: it ended).
        record = await self._calls.ringing(call_id, agent.id, leg.unique_id)
        if record is None:
            self._forget_leg(leg)
            return
        recording = f"{record.call_id}-{len(record.recordings) + 1}"
        timeout_s = self._config.ring_timeout_s
        variables = [f"HUB_CALL={call_id}", f"HUB_REC={recording}"]
        if record.caller_channel is None:  # a call back: once she answers, her leg dials the customer
            exten = "callback"
            variables.append(f"HUB_DIAL={self._config.dial_out.format(number=dialable(record.caller))}")
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
            self._forget_leg(leg)
            await self._calls.not_answered(call_id, agent.id, reason)
            logger.info("voice.ring.not_answered call=%s agent=%s reason=%s", call_id, agent.id, reason)
            return
        leg.answered = True
        try:
            await self._calls.answered(call_id, agent.id, leg.unique_id, recording)
        except (IllegalTransition, ConcurrentUpdate, NotFound) as err:
            # The offer went away while she answered (the caller hung up, or it timed out): let her go.
            logger.info("voice.ring.answered_too_late call=%s agent=%s reason=%s", call_id, agent.id, err.code)
            self._forget_leg(leg)
            await self._hang_up_channel(leg.unique_id)
            return
        logger.info("voice.ring.answered call=%s agent=%s", call_id, agent.id)

    async def _agent(self, agent_id: AgentId) -> Agent:
        """The agent to ring, without a read per offer: her endpoint derives from her id and username,
        which never change, so an agent read once is kept; the phones sync replaces them all."""
        agent = self._agents.get(agent_id)
        if agent is None:
            agent = self._agents[agent_id] = await self._directory.agent(agent_id)
        return agent

    def _forget_leg(self, leg: Leg) -> None:
        self._state.legs.pop(leg.unique_id, None)
        if self._state.leg_of_call.get(leg.call_id) == leg.unique_id:
            self._state.leg_of_call.pop(leg.call_id, None)

    def _endpoint(self, agent: Agent) -> str:
        return self._config.agent_endpoint.format(username=agent.username, agent_id=agent.id)

    # -- the console's controls (CallControl) -------------------------------------------------------
    async def hold(self, agent: Agent, conversation_id: str) -> None:
        await self._command("hold", agent, conversation_id)

    async def resume(self, agent: Agent, conversation_id: str) -> None:
        await self._command("resume", agent, conversation_id)

    async def hang_up(self, agent: Agent, conversation_id: str) -> None:
        await self._command("hangup", agent, conversation_id)

    async def transfer(self, agent: Agent, conversation_id: str, queue_id: str) -> None:
        await self._directory.queue(queue_id)  # NotFound before anything moves
        await self._command("transfer", agent, conversation_id, f"queue:{queue_id}")

    async def call_customer(self, agent: Agent, contact_id: str) -> str:
        """An outbound call: the conversation and call record first (any process), then the process
        holding the PBX rings her phone and, once she answers, dials the customer."""
        record = await self._calls.outbound(agent, contact_id)
        command = CallCommand(call_id=record.call_id, conversation_id=record.conversation_id, action="ring",
                              agent_id=agent.id)
        if self._ami is not None:
            await self._execute(command)
        elif self._bus is not None:
            await self._bus.publish(command)
        logger.info("voice.outbound.started call=%s agent=%s", record.call_id, agent.id)
        return record.conversation_id

    async def _command(self, action: str, agent: Agent, conversation_id: str, target: str | None = None) -> None:
        record = await self._calls.call_of(conversation_id)
        if record is None or not record.live:
            raise NotFound("this conversation has no call in progress")
        if record.agent_id != agent.id or record.answered_at is None:
            raise IllegalTransition("only the agent talking on this call can do that")
        command = CallCommand(call_id=record.call_id, conversation_id=record.conversation_id, action=action,
                              agent_id=agent.id, target=target)
        if self._ami is not None:
            await self._execute(command)
        elif self._bus is not None:  # another process holds the PBX connection
            await self._bus.publish(command)
        else:
            raise ServiceUnavailable("the phone system is not connected")

    async def _on_command(self, fact: Fact) -> None:
        assert isinstance(fact, CallCommand)
        if self._ami is not None:
            try:
                await self._execute(fact)
            except (HubError, ConcurrentUpdate, AmiLost) as err:
                logger.warning("voice.command.failed action=%s call=%s reason=%s", fact.action, fact.call_id,
                               getattr(err, "code", type(err).__name__))

    async def _execute(self, command: CallCommand) -> None:
        ami = self._ami
        if ami is None:
            raise ServiceUnavailable("the phone system is not connected")
        if command.action == "ring" and command.conversation_id is not None:  # an outbound call
            self._spawn(self._ring(command.call_id, command.conversation_id, command.agent_id),
                        f"voice:ring:{command.call_id}")
            return
        record = await self._calls.call(command.call_id)
        if record is None or not record.live or record.agent_leg is None:
            raise NotFound("this call is over")
        agent_channel = self._state.channels.get(record.agent_leg)
        if command.action == "hangup":
            if self._surveyed(record):  # her leg ends: the caller stays for the survey (``_agent_leg_gone``)
                await self._hang_up_channel(record.agent_leg)
                return
            await self._hang_up_customer(record)
            if record.caller_channel is None:  # a call back still dialling: her own leg ends the call
                await self._hang_up_channel(record.agent_leg)
            return
        if record.caller_channel is None:
            raise IllegalTransition("the customer is not on the line yet")
        if command.action == "hold":
            if agent_channel is None:
                raise NotFound("the agent's leg is gone")
            await self._require(ami, {"Action": "Redirect", "Channel": record.caller_channel, "Context": "hub-hold",
                                      "Exten": "s", "Priority": "1", "ExtraChannel": agent_channel,
                                      "ExtraContext": "hub-held", "ExtraExten": "s", "ExtraPriority": "1"})
            await self._calls.held(record.call_id, True)
        elif command.action == "resume":
            if agent_channel is None:
                raise NotFound("the agent's leg is gone")
            await self._require(ami, {"Action": "Bridge", "Channel1": agent_channel,
                                      "Channel2": record.caller_channel, "Tone": "no"})
            await self._calls.held(record.call_id, False)
        elif command.action == "transfer" and command.target and command.target.startswith("queue:"):
            agent = await self._directory.agent(command.agent_id)
            self._state.leg_of_call.pop(record.call_id, None)  # her leg's end is no longer the call's
            self._state.legs.pop(record.agent_leg, None)
            await self._calls.transferred(record.call_id, agent, command.target.removeprefix("queue:"))
            await self._require(ami, {"Action": "Redirect", "Channel": record.caller_channel, "Context": "hub-wait",
                                      "Exten": "s", "Priority": "1"})
            await self._hang_up_channel(record.agent_leg)
        else:
            raise IllegalTransition(f"unknown call command {command.action!r}")

    async def _require(self, ami: AmiSession, action: Mapping[str, str]) -> None:
        if not succeeded(await ami.action(action)):
            raise IllegalTransition(f"the phone system refused {action['Action']}")

    def _surveyed(self, record: CallRecord) -> bool:
        """An answered inbound call whose caller hears the keypad survey once the agent hangs up (a
        call back's customer leg is the agent leg's Dial: it ends with hers)."""
        return (self._config.survey_after_call and "survey" in self._scripts and not record.callback
                and record.answered_at is not None and record.caller_channel is not None)

    async def _to_survey(self, record: CallRecord) -> bool:
        """Send the caller to the survey (``hub-after-call``) instead of hanging up; False: not done."""
        ami = self._ami
        if ami is None or not self._surveyed(record):
            return False
        customer = next((uid for uid, name in self._state.channels.items() if name == record.caller_channel), None)
        if customer is None:
            return False
        with contextlib.suppress(AmiLost):
            answer = await ami.action({"Action": "Redirect", "Channel": record.caller_channel,
                                       "Context": "hub-after-call", "Exten": "s", "Priority": "1"})
            if succeeded(answer):
                self._state.hangups[customer] = Party.AGENT
                return True
        return False

    async def _hang_up_customer(self, record: CallRecord) -> None:
        """Hang up the customer's current leg; its Hangup event then reads as the agent's doing."""
        customer = next((uid for uid, name in self._state.channels.items() if name == record.caller_channel), None)
        if customer is not None:
            self._state.hangups[customer] = Party.AGENT
            await self._hang_up_channel(customer)

    async def _hang_up_channel(self, unique_id: str) -> None:
        """Hang up the channel with this unique id, if it is still there."""
        ami, channel = self._ami, self._state.channels.get(unique_id)
        if ami is None or channel is None:
            return
        with contextlib.suppress(AmiLost):
            await ami.action({"Action": "Hangup", "Channel": channel, "Cause": "16"})

    # -- reconciliation -----------------------------------------------------------------------------
    async def _reconcile(self, ami: AmiSession) -> None:
        answer = await ami.action({"Action": "CoreShowChannels"}, as_list=True)
        for item in answer if isinstance(answer, list) else []:
            if item.get("Event") == "CoreShowChannel" and item.get("Uniqueid"):
                self._state.channels[str(item["Uniqueid"])] = str(item.get("Channel", ""))
        live = self._state.channels
        for record in await self._calls.live_calls():
            if record.awaiting_callback and record.caller_channel is None:
                self._state.calls_of[record.conversation_id] = record.call_id  # waits for an agent, no line
                continue
            customer = next((uid for uid, name in live.items() if name == record.caller_channel), None)
            if customer is None:
                await self._calls.hung_up(record.call_id, Party.SYSTEM, lost=True)
                if record.agent_leg:
                    await self._hang_up_channel(record.agent_leg)
                continue
            self._state.calls_of[record.conversation_id] = record.call_id
            if record.agent_leg is None:
                continue  # waiting: it keeps its place; routing's offer rings again
            if record.answered_at is None:  # it rang while we were away: put it back in line
                await self._hang_up_channel(record.agent_leg)
                with contextlib.suppress(HubError, ConcurrentUpdate):
                    await self._calls.not_answered(record.call_id, _ringing_agent(record), "reconnected")
                continue
            if customer != record.call_id:
                self._state.customer_legs[customer] = record.call_id  # a call back's customer leg
            if record.agent_leg not in live:
                await self._calls.hung_up(record.call_id, Party.AGENT, lost=True)
                await self._hang_up_customer(record)
                continue
            leg = Leg(call_id=record.call_id, conversation_id=record.conversation_id,
                      agent_id=record.agent_id or "", unique_id=record.agent_leg, answered=True)
            self._state.legs[leg.unique_id] = leg
            self._state.leg_of_call[record.call_id] = leg.unique_id
        logger.info("voice.line.reconciled channels=%d", len(live))


def _ringing_agent(record: CallRecord) -> str:
    """The agent whose phone rang last (the last ``ringing`` step)."""
    for step in reversed(record.steps):
        if step.step is Step.RINGING:
            return str(step.detail.get("agent_id", ""))
    return ""


def _replace_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (mode 600: it holds the phones' passwords)."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    temporary.chmod(0o600)
    temporary.replace(path)


def dialable(number: str) -> str:
    """The caller's number as a dial string part: digits, ``+`` and ``*#`` only (it came from the PBX,
    but a dial string must never carry ``,``, ``&`` or ``/`` that would change what is dialled)."""
    return "".join(ch for ch in number if ch.isalnum() or ch in "+*#")


def originate_reason(answer: Any) -> str:
    """``answered`` or why not, from panoramisk's ``[Response, OriginateResponse]`` list."""
    if not isinstance(answer, list):
        return "failed" if answer is None else ("queued" if succeeded(answer) else "failed")
    for message in answer:
        if message.get("Event") == "OriginateResponse":
            if str(message.get("Response", "")).lower() == "success":
                return "answered"
            return ORIGINATE_REASONS.get(str(message.get("Reason", "")), "failed")
    return "failed"

