"""Phone calls in the conversation core (``hub.call_ports.CallLine``): what the voice line reports
becomes call steps and conversation transitions. Every call starts its own conversation on the
voice channel, queued by the caller's menu choice; its record (``calls``) keeps the call's steps."""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any

from hub.call_ports import CallRecords, CallRouting
from hub.conversations.agents import AgentSide
from hub.conversations.call_bot import BotCallSide
from hub.conversations.call_endings import settle_ended_call
from hub.conversations.call_outbound import start_outbound_call
from hub.conversations.core import ConversationCore
from hub.conversations.transitions import Transitions
from hub.domain.calls import VOICE, CallRecord, CallStep, Party, Step
from hub.domain.contacts import default_contact_name, inbound_key
from hub.domain.events import CallAnswered, CallEnded, CallHeld, CallRinging, EventType
from hub.domain.ids import AgentId, ContactId, ConversationId, new_id
from hub.domain.model import Agent, Conversation
from hub.domain.states import ConversationState
from hub.errors import ConcurrentUpdate, IllegalTransition, NotFound
from hub.ports import Directory
from hub.storage.contacts import MongoContactStore

logger = logging.getLogger(__name__)
S = ConversationState
WAITING = frozenset({S.QUEUED, S.OFFERED})


class CallSide(BotCallSide):
    """Implements ``hub.call_ports.CallLine``. Every step is idempotent: the PBX may report twice."""

    def __init__(self, core: ConversationCore, transitions: Transitions, agents: AgentSide, *,
                 calls: CallRecords, contacts: MongoContactStore, directory: Directory, router: CallRouting,
                 short_abandon_s: float) -> None:
        self._core = core
        self._transitions = transitions
        self._agents = agents
        self._calls = calls
        self._contacts = contacts
        self._directory = directory
        self._router = router
        self._short_abandon_s = short_abandon_s

    def _now(self) -> datetime:
        return self._core.clock.now()

    async def arrived(self, *, call_id: str, caller: str, caller_channel: str, choice: str | None,
                      queue_id: str, callback: bool = False, menu_s: float = 0.0) -> Conversation:
        """The caller chose at the menu (after ``menu_s`` in it): a new conversation, queued. A repeat
        returns the first."""
        earlier = await self._calls.get(call_id)
        if earlier is not None:
            return await self._core.conversations.get(earlier.conversation_id)
        now = self._now()
        contact = await self._contacts.ensure(inbound_key(VOICE, caller), default_contact_name(VOICE, caller), now)
        conversation = await self._core.conversations.create(Conversation(
            id=ConversationId(new_id("c")), contact_id=ContactId(contact["_id"]), channel=VOICE, state=S.NEW,
            version=0, queue=None, priority=0, skills=frozenset(), agent_id=None, created_at=now, updated_at=now,
        ), contact_name=contact["display_name"], actor="customer")
        came = now - timedelta(seconds=max(0.0, menu_s))
        steps: tuple[CallStep, ...] = (CallStep(at=came, step=Step.ARRIVED),
                 CallStep(at=now, step=Step.MENU, detail={"choice": choice or "", "queue": queue_id}))
        if callback:
            steps += (CallStep(at=now, step=Step.CALLBACK),)
        await self._calls.open(CallRecord(call_id=call_id, conversation_id=conversation.id, caller=caller,
                                          caller_channel=caller_channel, started_at=came, choice=choice,
                                          callback=callback, steps=steps))
        detail = {"call_id": call_id, "choice": choice or "", "callback": "yes" if callback else "no"}
        return await self._transitions.queue_for_humans(conversation, queue_id, event_type=EventType.QUEUED,
                                                        detail=detail)

    async def outbound(self, agent: Agent, contact_id: str) -> CallRecord:
        return await start_outbound_call(self._core, self._transitions, self._contacts, self._router, self._calls,
                                         agent, contact_id)

    async def ringing(self, call_id: str, agent_id: str, agent_leg: str | None) -> CallRecord | None:
        """Her phone is about to ring: noted on the live call, whose record (after the note) is
        returned, so the line dials without reading it first; None when the call has ended."""
        record = await self._calls.note(call_id, CallStep(at=self._now(), step=Step.RINGING,
                                                          detail={"agent_id": agent_id}),
                                        {"agent_leg": agent_leg}, unless_ended=True)
        if record is not None:
            await self._core.tell(CallRinging(call_id=call_id, conversation_id=record.conversation_id,
                                              agent_id=AgentId(agent_id)))
        return record

    async def answered(self, call_id: str, agent_id: str, agent_leg: str | None,
                       recording: str | None = None) -> Conversation:
        """The agent's phone answered: the offer is accepted (raises ``IllegalTransition`` when the
        offer is gone meanwhile: the caller hung up, or it timed out; the line then drops her leg)."""
        record = await self._known(call_id)
        agent = await self._directory.agent(agent_id)
        current = await self._core.conversations.get(record.conversation_id)
        if record.outbound and current.state is S.ASSIGNED and current.agent_id == agent.id:
            assigned = current  # her own call to a customer: hers from the start (``called_out``)
        else:  # a voice offer is taken by answering the phone, never in the console
            assigned = await self._router.accept(agent, record.conversation_id)
        now = self._now()
        await self._calls.note(call_id, CallStep(at=now, step=Step.ANSWERED, detail={"agent_id": agent_id}),
                               {"agent_id": agent_id, "agent_leg": agent_leg, "answered_at": now},
                               recording=recording)
        await self._core.tell(CallAnswered(call_id=call_id, conversation_id=record.conversation_id,
                                           agent_id=AgentId(agent_id)))
        return assigned

    async def not_answered(self, call_id: str, agent_id: str, reason: str) -> None:
        """Her phone rang out, was busy or refused: the next agent's turn (unless routing already
        took the offer back when it expired, or the caller is gone)."""
        record = await self._known(call_id)
        await self._calls.note(call_id, CallStep(at=self._now(), step=Step.NO_ANSWER,
                                                 detail={"agent_id": agent_id, "reason": reason}),
                               {"agent_leg": None}, unless_ended=True)
        if record.outbound:  # her own call: it ends here (after-call work; she may call again)
            await self.hung_up(call_id, Party.AGENT)
            return
        with contextlib.suppress(IllegalTransition, ConcurrentUpdate):
            await self._router.not_answered(await self._directory.agent(agent_id), record.conversation_id)

    async def dialing(self, call_id: str) -> None:
        """A call back: the agent answered and the customer's phone is being dialled."""
        await self._calls.note(call_id, CallStep(at=self._now(), step=Step.DIALING), unless_ended=True)

    async def connected(self, call_id: str, caller_channel: str) -> CallRecord | None:
        """The customer answered the call back: their new leg is the call's customer leg."""
        return await self._calls.note(call_id, CallStep(at=self._now(), step=Step.CONNECTED),
                                      {"caller_channel": caller_channel}, unless_ended=True)

    async def held(self, call_id: str, held: bool) -> CallRecord | None:
        record = await self._known(call_id)
        if (record.held_since is not None) == held or not record.live:  # nothing changes
            return record
        now = self._now()
        changes: dict[str, Any] = {"held_since": now if held else None}
        if not held and record.held_since is not None:
            changes["hold_s"] = record.hold_s + (now - record.held_since).total_seconds()
        noted = await self._calls.note(call_id, CallStep(at=now, step=Step.HELD if held else Step.RESUMED),
                                       changes, unless_ended=True)
        await self._core.tell(CallHeld(call_id=call_id, conversation_id=record.conversation_id,
                                       agent_id=record.agent_id, held=held))
        return noted

    async def transferred(self, call_id: str, agent: Agent, queue_id: str) -> Conversation:
        """Blind transfer: the conversation goes back in line for ``queue_id``; her leg is let go."""
        record = await self._known(call_id)
        moved = await self._agents.transfer(agent, record.conversation_id, queue_id)
        await self._calls.note(call_id, CallStep(at=self._now(), step=Step.TRANSFERRED,
                                                 detail={"agent_id": agent.id, "queue": queue_id}),
                               {"agent_id": None, "agent_leg": None, "answered_at": None,
                                "held_since": None})
        return moved

    async def hung_up(self, call_id: str, by: Party, *, lost: bool = False) -> CallRecord | None:
        """The call is over (``lost``: found gone on reconciliation). Waiting → ``abandoned`` with its
        wait; talking → after-call work. Only the first report counts."""
        now = self._now()
        record = await self._calls.get(call_id)
        if record is None or not record.live:
            return record
        conversation = await self._core.conversations.get(record.conversation_id)
        if record.awaiting_callback and by is Party.CALLER and conversation.state in WAITING and not lost:
            # Asked to be called back: the customer's line goes, the place in the queue stays.
            return await self._calls.note(call_id, CallStep(at=now, step=Step.HUNG_UP,
                                                            detail={"by": by.value, "callback": "waiting"}),
                                          {"caller_channel": None}, unless_ended=True)
        changes: dict[str, Any] = {"ended_at": now, "ended_by": by}
        if record.held_since is not None:
            changes.update(held_since=None, hold_s=record.hold_s + (now - record.held_since).total_seconds())
        ended = await self._calls.note(call_id, CallStep(at=now, step=Step.LOST if lost else Step.HUNG_UP,
                                                         detail={"by": by.value}), changes, unless_ended=True)
        if ended is None:
            return await self._calls.get(call_id)  # another report ended it first
        await settle_ended_call(self._transitions, self._router, conversation, ended, by, now, lost=lost,
                                short_abandon_s=self._short_abandon_s)
        await self._core.tell(CallEnded(call_id=call_id, conversation_id=ended.conversation_id,
                                        agent_id=ended.agent_id, by=by.value, talk_s=ended.talk_s(now)))
        return ended

    async def call(self, call_id: str) -> CallRecord | None:
        return await self._calls.get(call_id)

    async def call_of(self, conversation_id: str) -> CallRecord | None:
        return await self._calls.of_conversation(conversation_id)

    async def live_calls(self) -> list[CallRecord]:
        return await self._calls.live()

    async def _known(self, call_id: str) -> CallRecord:
        record = await self._calls.get(call_id)
        if record is None:
            raise NotFound(f"no call {call_id}")
        return record

