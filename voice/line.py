"""The voice line: the hub's side of the PBX, in one process at a time (lease ``voice:line``).

It serves the menu over FastAGI, logs into the AMI, and turns what happens into call steps and
transitions through ``hub.call_ports.CallLine``:

- our ACD offers a queued call (``OfferMade``) → the agent's phone is rung (AMI ``Originate`` into
  the ``hub-agent`` dialplan, which records and bridges her to the waiting caller); answered →
  ``answered`` (the offer is accepted); no answer, busy or refused → ``not_answered`` (the next agent);
- a hang-up (AMI ``Hangup``) of the caller or of the agent's answered leg → ``hung_up`` (abandoned
  while waiting, after-call work while talking) and the other leg is hung up too, or, when the agent
  hung up, the customer goes to the keypad survey (``voice.line_legs``);
- a call's conversation resolved while the customer is still on the line → her leg ends as if she
  hung up: the customer goes to the survey, not cut off;
- the console's hold, resume, transfer and hang-up (``CallControl``) are ``voice.line_commands``.

On every login it reconciles (``voice.line_reconcile``), so an AMI drop or a hub restart loses no
call and no fact that changes a KPI. The configuration and the line's picture of the PBX are
``voice.line_parts``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from hub.call_ports import CallLine
from hub.domain.calls import Party
from hub.domain.events import (
    BusResubscribed,
    CallCommand,
    ConversationChanged,
    EventType,
    Fact,
    OfferMade,
    OfferWithdrawn,
)
from hub.domain.model import Agent
from hub.errors import ConcurrentUpdate, HubError, IllegalTransition, NotFound, ServiceUnavailable
from hub.ports import Directory, EventBus
from hub.supervisor import Health
from voice.agi import AgiServer, Script
from voice.ami import AmiEvent, AmiLost, AmiSession
from voice.bot_calls import BotCalls
from voice.ivr import InboundMenu
from voice.line_commands import CallCommands
from voice.line_legs import LegActions
from voice.line_parts import CUSTOMER_LEFT, EVENTS, Leg, LineConfig, LineState
from voice.line_reconcile import reconcile
from voice.line_ring import AgentPhones, unrung_offers

logger = logging.getLogger(__name__)


class VoiceLine:
    """Implements ``hub.call_ports.CallControl``; ``run`` is the supervised loop (``channels:voice:line``)."""

    def __init__(self, config: LineConfig, *, calls: CallLine, directory: Directory,
                 bot: BotCalls | None = None) -> None:
        self._config = config
        self._calls = calls
        self._directory = directory
        self._bot = bot  # the voice bot (voice.bot_calls), when configured
        self._bus: EventBus | None = None  # set by ``listen``
        self._legs = LegActions(survey_on=False)  # on in ``run`` once the survey script is known
        self._phones = AgentPhones(config, calls=calls, directory=directory, legs=self._legs)
        self._commands = CallCommands(legs=self._legs, calls=calls, directory=directory, ring=self._ring_outbound)
        self._events: asyncio.Queue[AmiEvent] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self.agi_port: int | None = None  # bound port while the line runs (tests pass 0)
        self._scripts: dict[str, Script] = {}  # AGI scripts of other parts (the surveys), by name

    @property
    def ami(self) -> AmiSession | None:
        """The AMI session while this process holds the line (None otherwise)."""
        return self._legs.ami

    @property
    def _state(self) -> LineState:
        return self._legs.state

    def add_script(self, name: str, script: Script) -> None:
        """Wiring: serve ``script`` over FastAGI as ``name`` (the keypad surveys, voice/keypad_survey.py)."""
        self._scripts[name] = script

    # -- wiring -----------------------------------------------------------------------------------
    def listen(self, bus: EventBus) -> None:
        """Wiring: offers ring phones; commands from other processes' consoles arrive here; a call's
        conversation resolved while the customer is on the line sends the customer to the survey."""
        self._bus = bus
        bus.subscribe(OfferMade, self._on_offer, subscriber="voice:offers")
        bus.subscribe(BusResubscribed, self._on_resubscribed, subscriber="voice:offers")  # in order with offers
        bus.subscribe(OfferWithdrawn, self._on_withdrawn, subscriber="voice:withdrawn")
        bus.subscribe(CallCommand, self._on_command, subscriber="voice:commands")
        bus.subscribe(ConversationChanged, self._on_changed, subscriber="voice:resolved")

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
        self._legs.survey_on = config.survey_after_call and "survey" in self._scripts
        self._events = asyncio.Queue()
        bot_stack = contextlib.AsyncExitStack()
        try:
            async with AmiSession(host=config.ami_host, port=config.ami_port, user=config.ami_user,
                                  secret=config.ami_secret, timeout_s=config.ami_timeout_s,
                                  ping_s=config.ami_ping_s, events=EVENTS, on_event=self._events.put_nowait) as ami:
                self._legs.bind(ami, LineState())
                await reconcile(ami, self._calls, self._legs)
                self.agi_port = await agi.start(config.agi_host, config.agi_port)
                if self._bot is not None:  # the speech models load (seconds) before the line is up
                    await bot_stack.enter_async_context(self._bot.running())
                health.up()
                logger.info("voice.line.up agi_port=%d", self.agi_port)
                async with asyncio.TaskGroup() as group:
                    group.create_task(ami.watch())
                    group.create_task(self._consume())
                    if config.phones_file is not None:
                        group.create_task(self._phones.sync(ami, config.phones_file))
        except* AmiLost as lost:
            raise lost.exceptions[0] from None
        finally:
            self._legs.unbind()
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
            await self._legs.hang_up_channel(leg_id)
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
        party = self._state.customer_hangup(leg.call_id) if customer_left else Party.AGENT
        record = await self._calls.hung_up(leg.call_id, party)
        if record is not None:
            self._state.calls_of.pop(record.conversation_id, None)
            if party is Party.AGENT and await self._legs.to_survey(record, leg):
                return
            await self._legs.hang_up_customer(record)

    # -- offers: ring the agent's phone -------------------------------------------------------------
    async def _on_offer(self, fact: Fact) -> None:
        assert isinstance(fact, OfferMade)
        call_id = self._state.calls_of.get(fact.conversation_id)
        if self.ami is not None and call_id is not None:
            self._spawn(self._phones.ring(call_id, fact.conversation_id, fact.agent_id), f"voice:ring:{call_id}")

    async def _on_resubscribed(self, fact: Fact) -> None:
        """Offers made while the bus re-subscribed rang no phone: ring those this line does not ring."""
        if self.ami is None:
            return
        ringing = {task.get_name() for task in self._tasks if not task.done()}
        for call_id, conversation_id, agent_id in await unrung_offers(self._calls, self._state):
            if f"voice:ring:{call_id}" not in ringing:
                logger.info("voice.ring.after_gap call=%s agent=%s", call_id, agent_id)
                self._spawn(self._phones.ring(call_id, conversation_id, agent_id), f"voice:ring:{call_id}")

    def _ring_outbound(self, command: CallCommand) -> None:
        if command.conversation_id is not None:
            self._spawn(self._phones.ring(command.call_id, command.conversation_id, command.agent_id),
                        f"voice:ring:{command.call_id}")

    async def _on_withdrawn(self, fact: Fact) -> None:
        assert isinstance(fact, OfferWithdrawn)
        call_id = self._state.calls_of.get(fact.conversation_id)
        leg_id = self._state.leg_of_call.get(call_id or "")
        leg = self._state.legs.get(leg_id or "")
        if leg is not None and not leg.answered and self.ami is not None:
            await self._legs.hang_up_channel(leg.unique_id)  # the offer timed out in routing: stop the ringing

    # -- resolved while the customer is on the line -------------------------------------------------
    async def _on_changed(self, fact: Fact) -> None:
        """A call's conversation resolved with the customer on the line: ``CallCommands.end_resolved``."""
        assert isinstance(fact, ConversationChanged)
        if fact.event is EventType.RESOLVED and fact.summary.get("channel") == "voice" and self.ami is not None:
            await self._commands.end_resolved(fact.conversation_id)

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
        if self.ami is not None:
            await self._commands.execute(command)
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
        if self.ami is not None:
            await self._commands.execute(command)
        elif self._bus is not None:  # another process holds the PBX connection
            await self._bus.publish(command)
        else:
            raise ServiceUnavailable("the phone system is not connected")

    async def _on_command(self, fact: Fact) -> None:
        assert isinstance(fact, CallCommand)
        if self.ami is not None:
            try:
                await self._commands.execute(fact)
            except (HubError, ConcurrentUpdate, AmiLost) as err:
                logger.warning("voice.command.failed action=%s call=%s reason=%s", fact.action, fact.call_id,
                               getattr(err, "code", type(err).__name__))
