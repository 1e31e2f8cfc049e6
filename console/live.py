"""Live console: the agent WebSockets this process holds, fed by typed facts from the bus.

Who gets a ``conversation`` frame is decided per frame by the one visibility rule
(``hub.domain.visibility`` through ``AgentDesk.may_view``): an agent, the conversations
she holds and those queued for her skills (a team leader also her members'); supervisors and
admins everything; trainers nothing. Overview frames go to supervisors and admins, and to team
leaders with their team's agents only. A
conversation that leaves someone's sight is announced as ``conversation_gone`` without content.
Message, status and typing frames go only to the holding agent and to supervisors and admins,
who may all see private notes. Call frames (``call``: ringing, answered, held, resumed, ended) go
the same way: to the agent holding the call's conversation and to supervisors and admins.

The fan-out path never waits: each frame is encoded once and queued on each socket's
``SocketWriter`` (a client that stops reading is disconnected, never waited on), and it reads
nothing from MongoDB. Who holds a conversation comes from the ``conversation`` facts seen (or the
message fact's own ``holder``); an offer's summary from the ``offered`` transition's fact. A
status or typing fact of a conversation this process has seen nothing of is handed to the
holder-lookup task, which reads MongoDB off the fan-out path; delivered receipts are written by
their own task too.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from hub.clock import from_ms, iso, parse_iso
from hub.context import HubContext
from hub.domain.events import (
    BusResubscribed,
    CallAnswered,
    CallEnded,
    CallFact,
    CallHeld,
    CallRinging,
    ContactChanged,
    ConversationChanged,
    MessagesDelivered,
    MessageStored,
    OfferMade,
    OfferWithdrawn,
    PresenceChanged,
    StatusChanged,
    TypingChanged,
)
from hub.domain.ids import Author, Role
from hub.domain.model import Agent
from hub.domain.states import HELD_BY_AGENT, OPEN_STATES, ConversationState
from hub.domain.visibility import SEES_EVERYTHING, sees_contacts
from hub.ports import EventBus
from hub.socket_writer import SocketWriter
from hub.tasks import cancel_and_wait
from hub.teams import team_only
from hub.wire import agent_json, summary_json

logger = logging.getLogger(__name__)

SUPERVISING = SEES_EVERYTHING
OVERVIEW_PERIOD_S = 1.0
HOLDING_STATES = frozenset({ConversationState.OFFERED, *HELD_BY_AGENT})
RECEIPT_BATCH = 500
# A receipt waits this long for others, so that customers writing at once cost one write, not
# one each; the widget's "delivered" mark comes that much later, the reply not at all.
RECEIPT_GATHER_S = 0.1
MAX_REMEMBERED = 100_000  # open conversations whose holder this process remembers (oldest forgotten first)
MAX_POSTED = 10_000  # replies whose posting tab is remembered until their fact arrives (oldest forgotten first)
SUBSCRIBER = "console:live"
SOCKET_HEADER = "X-Console-Socket"  # on a reply: the id of the posting tab's socket (its hello frame)
RESYNC_FRAME = '{"type":"resync"}'


def frame_text(frame: Mapping[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"))


class ConsoleLive:
    """Lifecycle: ``async with live`` runs the supervisor overview pusher, the receipt writer and
    the holder lookups; ``listen(bus)`` subscribes it (one subscriber: facts in bus order)."""

    def __init__(self, hub: HubContext) -> None:
        self._hub = hub
        self._sockets: dict[str, set[SocketWriter]] = {}
        self._agents: dict[str, Agent] = {}
        self._tasks: list[asyncio.Task[None]] = []
        # Delivered receipts are written in batches by their own task, never on the bus path,
        # so one slow write cannot hold up the frames of every other conversation.
        self._delivered: asyncio.Queue[tuple[str, str, datetime]] = asyncio.Queue()
        # conversation id -> agent holding it (None: nobody), kept by every conversation fact.
        self._holders: dict[str, str | None] = {}
        # conversation id -> its summary while it is offered (the offer frame's content)
        self._offered: dict[str, Mapping[str, Any]] = {}
        # frames waiting for the holder of a conversation this process knows nothing of
        self._lookups: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        # socket id (told in its hello frame) -> (agent id, its writer)
        self._tabs: dict[str, tuple[str, SocketWriter]] = {}
        # message id -> the socket whose tab posted it: its answer carried the message, so the
        # message's frame skips that socket (ADR 0073)
        self._posted: dict[str, SocketWriter] = {}

    async def __aenter__(self) -> ConsoleLive:
        self._tasks = [asyncio.create_task(self._push_overview(), name="console:overview"),
                       asyncio.create_task(self._write_receipts(), name="console:receipts"),
                       asyncio.create_task(self._look_up_holders(), name="console:holders")]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            await cancel_and_wait(task)
        writers = [w for sockets in self._sockets.values() for w in sockets]
        await asyncio.gather(*(w.close(code=1001, message=b"server shutting down") for w in writers))

    def listen(self, bus: EventBus) -> None:
        """Wiring: one subscriber for every kind, so that a message follows the transition before it."""
        bus.subscribe(ConversationChanged, self._on_conversation, subscriber=SUBSCRIBER)
        bus.subscribe(OfferMade, self._on_offer, subscriber=SUBSCRIBER)
        bus.subscribe(OfferWithdrawn, self._on_offer_withdrawn, subscriber=SUBSCRIBER)
        bus.subscribe(MessageStored, self._on_message, subscriber=SUBSCRIBER)
        bus.subscribe(StatusChanged, self._on_status, subscriber=SUBSCRIBER)
        bus.subscribe(MessagesDelivered, self._on_delivered, subscriber=SUBSCRIBER)
        bus.subscribe(TypingChanged, self._on_typing, subscriber=SUBSCRIBER)
        bus.subscribe(PresenceChanged, self._on_presence, subscriber=SUBSCRIBER)
        bus.subscribe(ContactChanged, self._on_contact, subscriber=SUBSCRIBER)
        for kind in (CallRinging, CallAnswered, CallHeld, CallEnded):
            bus.subscribe(kind, self._on_call, subscriber=SUBSCRIBER)
        bus.subscribe(BusResubscribed, self._on_resubscribed, subscriber=SUBSCRIBER)

    def add(self, agent: Agent, writer: SocketWriter, socket_id: str | None = None) -> None:
        self._sockets.setdefault(agent.id, set()).add(writer)
        self._agents[agent.id] = agent
        if socket_id is not None:
            self._tabs[socket_id] = (agent.id, writer)

    def remove(self, agent: Agent, writer: SocketWriter, socket_id: str | None = None) -> None:
        if socket_id is not None:
            self._tabs.pop(socket_id, None)
        sockets = self._sockets.get(agent.id, set())
        sockets.discard(writer)
        if not sockets:
            self._sockets.pop(agent.id, None)
            self._agents.pop(agent.id, None)

    def agent(self, agent_id: str) -> Agent | None:
        """The connected agent as this process last saw her (status changes included)."""
        return self._agents.get(agent_id)

    def update_agent(self, agent: Agent) -> None:
        if agent.id in self._agents:
            self._agents[agent.id] = agent

    async def disconnect(self, agent_id: str) -> None:
        """Close the agent's sockets (her sessions were revoked); a console still logged in reconnects."""
        writers = list(self._sockets.get(agent_id, ()))
        await asyncio.gather(*(w.close(code=4001, message=b"sessions revoked") for w in writers))

    def posted(self, agent_id: str, socket_id: str | None, message_id: str) -> None:
        """The agent's console tab on socket ``socket_id`` posted message ``message_id`` and has it
        in the answer: its frame goes to her other tabs and to supervisors, not back to that one.
        Called before the message's fact is handled (the bus only queued it for this object's
        task, which runs once the posting handler yields). A socket of another agent, or one this
        process does not hold (the tab's socket is on another process), changes nothing: that tab
        gets the frame and keeps the message once, by its id."""
        tab = self._tabs.get(socket_id or "")
        if tab is None or tab[0] != agent_id:
            return
        self._posted[message_id] = tab[1]
        if len(self._posted) > MAX_POSTED:  # a fact dropped by a full subscriber queue leaves its entry
            del self._posted[next(iter(self._posted))]

    def is_connected(self, agent_id: str) -> bool:
        return agent_id in self._sockets

    def stalled(self, agent_id: str) -> bool:
        """One of the agent's sockets has a write waiting for her console to read (``SocketWriter.stalled``)."""
        return any(w.stalled for w in self._sockets.get(agent_id, ()))

    def _send(self, agent_id: str, data: str, skip: SocketWriter | None = None) -> bool:
        sent = False
        for writer in list(self._sockets.get(agent_id, ())):
            if writer is not skip:
                sent = writer.send_text(data) or sent
        return sent

    def _only(self, writer: SocketWriter, agent_ids: list[str | None]) -> bool:
        """``writer`` is the only socket these agents hold here."""
        return all(w is writer for a in agent_ids if a for w in self._sockets.get(a, ()))

    def _supervisors(self) -> list[str]:
        return [aid for aid, agent in self._agents.items() if agent.role in SUPERVISING]

    def _remember(self, conversation_id: str, holder: str | None) -> None:
        self._holders.pop(conversation_id, None)  # re-inserted last: the oldest entry is forgotten first
        self._holders[conversation_id] = holder
        if len(self._holders) > MAX_REMEMBERED:
            del self._holders[next(iter(self._holders))]

    async def _on_conversation(self, fact: ConversationChanged) -> None:
        cid, state, summary = fact.conversation_id, fact.state, fact.summary
        if state in OPEN_STATES:
            self._remember(cid, fact.agent_id if state in HOLDING_STATES else None)
        else:
            self._holders.pop(cid, None)
        if state is ConversationState.OFFERED:
            self._offered[cid] = summary
        else:
            self._offered.pop(cid, None)
        if not self._agents:
            return
        doc = {"_id": cid, "state": state.value, "agent_id": fact.agent_id, "skills": summary.get("skills", [])}
        shown = frame_text({"type": "conversation", "event": fact.event.value, "conversation": summary})
        gone = frame_text({"type": "conversation_gone", "conversation_id": cid})
        for agent_id, agent in list(self._agents.items()):
            self._send(agent_id, shown if self._hub.desk.may_view(agent, doc) else gone)

    async def _on_offer(self, fact: OfferMade) -> None:
        summary = self._offered.get(fact.conversation_id)
        if summary is None or not self.is_connected(fact.agent_id):
            return  # its summary fact was lost (at most once) or the offer is over: the inbox reload shows it
        self._send(fact.agent_id, frame_text({"type": "offer", "conversation": summary,
                                              "expires_at": iso(fact.expires_at)}))

    async def _on_resubscribed(self, fact: BusResubscribed) -> None:
        """The bus listens again after a gap, and what was published meanwhile is lost (ADR 0060):
        forget what those facts kept here, send each connected agent her open offers again (one
        read each, once per gap) and a ``resync`` frame, on which the console reloads its inbox and
        its open conversation as after a reconnect of its own."""
        self._holders.clear()
        self._offered.clear()
        for agent_id in list(self._sockets):
            try:
                frames = await offer_frames(self._hub, agent_id)
            except Exception as err:
                logger.warning("console.resync.failed agent=%s error=%s", agent_id, type(err).__name__)
                frames = []
            for frame in frames:
                self._send(agent_id, frame_text(frame))
            self._send(agent_id, RESYNC_FRAME)

    async def _on_presence(self, fact: PresenceChanged) -> None:
        """The agent's own status set elsewhere (the hub's missed-offers rule, another tab): her top
        bar shows it (``presence`` frame), and her cached copy follows for heartbeat re-registration."""
        agent = self._agents.get(fact.agent_id)
        if agent is None:
            return
        self._agents[fact.agent_id] = replace(agent, status=fact.status, pause_reason=fact.reason)
        self._send(fact.agent_id, frame_text({"type": "presence", "status": fact.status.value,
                                              "pause_reason": fact.reason}))

    async def _on_contact(self, fact: ContactChanged) -> None:
        """Ids only, to everyone who sees contacts: a console showing it reads it again through
        the visibility rule (GET /api/contacts/{id}), so nobody learns more than she may see."""
        data = frame_text({"type": "contact", "contact_id": fact.contact_id, "change": fact.change,
                           "merged_from": fact.merged_from})
        for agent_id, agent in list(self._agents.items()):
            if sees_contacts(agent):
                self._send(agent_id, data)

    async def _on_offer_withdrawn(self, fact: OfferWithdrawn) -> None:
        self._send(fact.agent_id, frame_text({"type": "offer_withdrawn", "conversation_id": fact.conversation_id}))

    async def _on_message(self, fact: MessageStored) -> None:
        cid = fact.conversation_id
        if cid not in self._holders:
            self._remember(cid, fact.holder)
        holder = self._holders[cid]
        posted_from = self._posted.pop(str(fact.message["id"]), None) if self._posted else None
        supervisors = [s for s in self._supervisors() if s != holder]
        if posted_from is not None and self._only(posted_from, [*supervisors, holder]):
            return  # the one socket that would get it posted it (and has it in its answer)
        data = frame_text({"type": "message", "conversation_id": cid, "message": fact.message})
        for supervisor in supervisors:
            self._send(supervisor, data, skip=posted_from)
        if holder and self._send(holder, data, skip=posted_from) and fact.author is Author.CUSTOMER:
            self._delivered.put_nowait((cid, str(fact.message["id"]), parse_iso(str(fact.message["sent_at"]))))

    async def _on_delivered(self, fact: MessagesDelivered) -> None:
        """A receipt batch: each message as its own status frame (ADR 0062)."""
        for status in fact.statuses():
            await self._on_status(status)

    async def _on_status(self, fact: StatusChanged) -> None:
        if fact.author is not Author.AGENT:
            return
        data = frame_text({"type": "status", "conversation_id": fact.conversation_id,
                           "message_id": fact.message_id, "status": fact.status.value})
        supervisors = self._supervisors()
        for supervisor in supervisors:
            self._send(supervisor, data)
        self._to_holder(fact.conversation_id, data, already=supervisors)

    async def _on_typing(self, fact: TypingChanged) -> None:
        if fact.who is Author.CUSTOMER:
            self._to_holder(fact.conversation_id, frame_text(
                {"type": "typing", "conversation_id": fact.conversation_id, "active": fact.active}))

    async def _on_call(self, fact: CallFact) -> None:
        """A call's live status: to supervisors and admins and to the agent holding its conversation
        (offered to her: her phone rings; assigned or in wrap-up). A call that is only waiting is
        nobody else's to follow live: the conversation frames show its place in line."""
        if fact.conversation_id is None:
            return
        data = frame_text(call_frame(fact))
        supervisors = self._supervisors()
        for supervisor in supervisors:
            self._send(supervisor, data)
        self._to_holder(fact.conversation_id, data, already=supervisors)

    def _to_holder(self, conversation_id: str, data: str, already: list[str] | None = None) -> None:
        if conversation_id not in self._holders:
            if self._sockets:
                self._lookups.put_nowait((conversation_id, data))
            return
        holder = self._holders[conversation_id]
        if holder and holder not in (already or ()):
            self._send(holder, data)

    async def _look_up_holders(self) -> None:
        """Off the fan-out path: who holds a conversation this process has seen nothing of."""
        while True:
            conversation_id, data = await self._lookups.get()
            if conversation_id not in self._holders:
                try:
                    conversation = await self._hub.desk.conversation(conversation_id)
                except Exception as err:
                    logger.warning("console.holder.lookup_failed id=%s error=%s", conversation_id,
                                   type(err).__name__)
                    continue
                if conversation.state in OPEN_STATES:
                    self._remember(conversation_id,
                                   conversation.agent_id if conversation.state in HOLDING_STATES else None)
            holder = self._holders.get(conversation_id)
            if holder and holder not in self._supervisors():
                self._send(holder, data)

    async def _write_receipts(self) -> None:
        while True:
            batch = [await self._delivered.get()]
            await asyncio.sleep(RECEIPT_GATHER_S)
            while not self._delivered.empty() and len(batch) < RECEIPT_BATCH:
                batch.append(self._delivered.get_nowait())
            try:
                await self._hub.desk.delivered_to_agents(batch)
            except Exception:
                logger.exception("console.receipts.failed size=%d", len(batch))

    async def _push_overview(self) -> None:
        while True:
            await asyncio.sleep(OVERVIEW_PERIOD_S)
            supervisors = self._supervisors()
            leaders = [a for a in self._agents.values() if a.role is Role.TEAM_LEADER]
            if not supervisors and not leaders:
                continue
            try:
                overview = await overview_json(self._hub)
            except Exception:
                logger.exception("console.overview.failed")
                continue
            data = frame_text({"type": "overview", "overview": overview})
            for agent_id in supervisors:
                self._send(agent_id, data)
            for leader in leaders:  # her team's members only (hub.teams)
                self._send(leader.id, frame_text({"type": "overview", "overview": {
                    **overview, "agents": team_only(leader, overview["agents"])}}))


async def offer_frames(hub: HubContext, agent_id: str) -> list[dict[str, Any]]:
    """The agent's open offers as ``offer`` frames (what ``OfferMade`` would have sent)."""
    frames = []
    for doc in await hub.conversations.held_by(agent_id, frozenset({ConversationState.OFFERED})):
        offer = await hub.acd.offer_of(doc["_id"])
        if offer is not None and offer.agent_id == agent_id:
            frames.append({"type": "offer", "conversation": summary_json(doc),
                           "expires_at": iso(from_ms(offer.expires_ms))})
    return frames


def call_frame(fact: CallFact) -> dict[str, Any]:
    """docs/api.md, "Console WebSocket": ``{"type": "call", "event", "conversation_id", "call_id",
    "agent_id", ...}``; ``event`` is ``ringing``, ``answered``, ``held``, ``resumed`` or ``ended``
    (with ``by`` and ``talk_s``). No caller number: the panel reads the call with its GET."""
    frame: dict[str, Any] = {"type": "call", "conversation_id": fact.conversation_id, "call_id": fact.call_id,
                             "agent_id": getattr(fact, "agent_id", None)}
    if isinstance(fact, CallRinging):
        frame["event"] = "ringing"
    elif isinstance(fact, CallAnswered):
        frame["event"] = "answered"
    elif isinstance(fact, CallHeld):
        frame["event"] = "held" if fact.held else "resumed"
    elif isinstance(fact, CallEnded):
        frame.update(event="ended", by=fact.by, talk_s=fact.talk_s)
    return frame


async def overview_json(hub: HubContext) -> dict[str, Any]:
    """The supervisor overview with the directory's names joined to Redis's live state."""
    live = await hub.acd.overview()
    agents = []
    for agent in await hub.directory.agents():
        state = live["agents"].get(agent.id, {})
        agents.append({**agent_json(agent), "status": state.get("status", "offline"),
                       "load": state.get("load", {}), "online": state.get("online", False)})
    return {"queues": live["queues"], "agents": agents}
