"""Live console: the agent WebSockets this process holds, fed from the cross-process bus.

Who gets a ``conversation`` frame is decided per frame by the one visibility rule
(``hub.domain.visibility`` through ``ConversationService.may_view``): an agent, the conversations
she holds and those queued for her skills; supervisors and admins everything; trainers nothing. A
conversation that leaves someone's sight is announced as ``conversation_gone`` without content.
Message, status and typing frames go only to the holding agent and to supervisors and admins,
who may all see private notes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from hub.context import HubContext
from hub.domain.ids import Author
from hub.domain.model import Agent
from hub.domain.visibility import SEES_EVERYTHING
from hub.service import ConversationService
from hub.tasks import cancel_and_wait
from hub.wire import agent_json, summary_json

logger = logging.getLogger(__name__)

SUPERVISING = SEES_EVERYTHING
OVERVIEW_PERIOD_S = 1.0
HOLDING_STATES = frozenset({"offered", "assigned", "wrap_up"})
RECEIPT_BATCH = 500


class ConsoleLive:
    """Lifecycle: ``async with live`` runs the supervisor overview pusher."""

    def __init__(self, hub: HubContext) -> None:
        self._hub = hub
        self._sockets: dict[str, set[web.WebSocketResponse]] = {}
        self._agents: dict[str, Agent] = {}
        self._task: asyncio.Task[None] | None = None
        self._receipts_task: asyncio.Task[None] | None = None
        # Delivered receipts are written in batches by their own task, never on the bus path,
        # so one slow write cannot hold up the frames of every other conversation.
        self._delivered: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        # conversation id -> agent holding it (None: nobody). Kept current by "conversation"
        # events, filled from MongoDB on a miss, so a message costs no read.
        self._holders: dict[str, str | None] = {}

    async def __aenter__(self) -> ConsoleLive:
        self._task = asyncio.create_task(self._push_overview(), name="console:overview")
        self._receipts_task = asyncio.create_task(self._write_receipts(), name="console:receipts")
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in (self._task, self._receipts_task):
            if task is not None:
                await cancel_and_wait(task)
        for sockets in list(self._sockets.values()):
            for ws in list(sockets):
                await ws.close(code=1001, message=b"server shutting down")

    def add(self, agent: Agent, ws: web.WebSocketResponse) -> None:
        self._sockets.setdefault(agent.id, set()).add(ws)
        self._agents[agent.id] = agent

    def remove(self, agent: Agent, ws: web.WebSocketResponse) -> None:
        sockets = self._sockets.get(agent.id, set())
        sockets.discard(ws)
        if not sockets:
            self._sockets.pop(agent.id, None)
            self._agents.pop(agent.id, None)

    def update_agent(self, agent: Agent) -> None:
        if agent.id in self._agents:
            self._agents[agent.id] = agent

    async def disconnect(self, agent_id: str) -> None:
        """Close the agent's sockets (her sessions were revoked); a console still logged in reconnects."""
        for ws in list(self._sockets.get(agent_id, ())):
            await ws.close(code=4001, message=b"sessions revoked")

    def is_connected(self, agent_id: str) -> bool:
        return agent_id in self._sockets

    async def _send(self, agent_id: str, frame: Mapping[str, Any]) -> bool:
        sent = False
        for ws in list(self._sockets.get(agent_id, ())):
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_json(frame)
                sent = True
        return sent

    def _supervisors(self) -> list[str]:
        return [aid for aid, agent in self._agents.items() if agent.role in SUPERVISING]

    async def on_bus(self, event: Mapping[str, Any]) -> None:
        handler = {"conversation": self._on_conversation, "offer": self._on_offer,
                   "offer_withdrawn": self._on_offer_withdrawn, "message": self._on_message,
                   "status": self._on_status, "typing": self._on_typing}.get(event.get("t", ""))
        if handler is not None and self._sockets:
            await handler(event)

    async def _on_conversation(self, event: Mapping[str, Any]) -> None:
        summary = event["summary"]
        if summary["state"] in ("resolved", "closed"):
            self._holders.pop(summary["id"], None)
        else:
            self._holders[summary["id"]] = summary["agent_id"] if summary["state"] in HOLDING_STATES else None
        doc = {"_id": summary["id"], "state": summary["state"], "agent_id": summary["agent_id"],
               "skills": summary.get("skills", [])}
        for agent_id, agent in list(self._agents.items()):
            if ConversationService.may_view(agent, doc):
                await self._send(agent_id, {"type": "conversation", "conversation": summary})
            else:
                await self._send(agent_id, {"type": "conversation_gone", "conversation_id": summary["id"]})

    async def _on_offer(self, event: Mapping[str, Any]) -> None:
        if not self.is_connected(event["agent_id"]):
            return
        doc = await self._hub.conversations.get_doc(event["conversation_id"])
        await self._send(event["agent_id"], {"type": "offer", "conversation": summary_json(doc),
                                             "expires_at": event["expires_at"]})

    async def _on_offer_withdrawn(self, event: Mapping[str, Any]) -> None:
        await self._send(event["agent_id"], {"type": "offer_withdrawn",
                                             "conversation_id": event["conversation_id"]})

    async def _on_message(self, event: Mapping[str, Any]) -> None:
        frame = {"type": "message", "conversation_id": event["conversation_id"], "message": event["message"]}
        holder = await self._holder(event)
        for supervisor in self._supervisors():
            if supervisor != holder:
                await self._send(supervisor, frame)
        if holder and await self._send(holder, frame) and event["message"]["author"] == Author.CUSTOMER:
            self._delivered.put_nowait((event["conversation_id"], event["message"]["id"]))

    async def _write_receipts(self) -> None:
        while True:
            batch = [await self._delivered.get()]
            while not self._delivered.empty() and len(batch) < RECEIPT_BATCH:
                batch.append(self._delivered.get_nowait())
            try:
                await self._hub.service.delivered_to_agents(batch)
            except Exception:
                logger.exception("console.receipts.failed size=%d", len(batch))

    async def _holder(self, event: Mapping[str, Any]) -> str | None:
        """The agent holding the conversation now (the event's view may predate an accept)."""
        conversation_id = event["conversation_id"]
        if conversation_id not in self._holders:
            doc = await self._hub.conversations.get_doc(conversation_id)
            self._holders[conversation_id] = doc.get("agent_id") if doc["state"] in HOLDING_STATES else None
        return self._holders[conversation_id]

    async def _on_status(self, event: Mapping[str, Any]) -> None:
        if event.get("author") != Author.AGENT:
            return
        frame = {"type": "status", "conversation_id": event["conversation_id"],
                 "message_id": event["message_id"], "status": event["status"]}
        holder = await self._holder(event)
        for agent_id in {holder, *self._supervisors()} - {None}:
            await self._send(str(agent_id), frame)

    async def _on_typing(self, event: Mapping[str, Any]) -> None:
        if event.get("who") != Author.CUSTOMER:
            return
        holder = await self._holder(event)
        if holder:
            await self._send(holder, {"type": "typing", "conversation_id": event["conversation_id"],
                                      "active": bool(event.get("active"))})

    async def _push_overview(self) -> None:
        while True:
            await asyncio.sleep(OVERVIEW_PERIOD_S)
            supervisors = self._supervisors()
            if not supervisors:
                continue
            try:
                overview = await overview_json(self._hub)
            except Exception:
                logger.exception("console.overview.failed")
                continue
            for agent_id in supervisors:
                await self._send(agent_id, {"type": "overview", "overview": overview})


async def overview_json(hub: HubContext) -> dict[str, Any]:
    """The supervisor overview with the directory's names joined to Redis's live state."""
    live = await hub.acd.overview()
    agents = []
    for agent in await hub.directory.agents():
        state = live["agents"].get(agent.id, {})
        agents.append({**agent_json(agent), "status": state.get("status", "offline"),
                       "load": state.get("load", {}), "online": state.get("online", False)})
    return {"queues": live["queues"], "agents": agents}
