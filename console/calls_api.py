"""The call of a voice conversation in the console (docs/api.md, "Calls"): its record, its controls
and its recordings.

- ``GET /api/conversations/{id}/call``: the call as JSON (404 when the conversation has none);
- ``POST /api/conversations/{id}/call/hold|resume|hangup`` and ``.../call/transfer {"queue"}``:
  ``hub.call_ports.CallControl`` (409 not in a state for it or not her call, 404 no call in
  progress, 503 voice is off or the PBX is away);
- ``GET /api/conversations/{id}/recordings/{name}/{leg}``: one leg of a recording as ``audio/wav``
  with HTTP range requests (the player seeks). ``name`` must be one of the call's recordings as
  stored; the client never names a file.

Session and CSRF are the console middleware's. Who sees a call is the one visibility rule
(``hub.domain.visibility`` through ``AgentDesk.look``): a call is seen by whoever may see its
conversation (403 otherwise: trainers, other agents). Recordings are what was said between an
agent and the customer, so like private notes they need the full sight of the conversation: an
agent hears them only of a call offered or assigned to her, or one she served (a queued call that
another agent transferred lists none for her); supervisors and admins all.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from console.api import QueueBody, body
from console.auth import AGENT_KEY
from console.contacts_api import CONTACTS
from console.errors import api_error
from console.keys import HUB
from hub.call_ports import CallControl
from hub.clock import iso
from hub.domain.calls import CallRecord, Step
from hub.domain.ids import Role
from hub.domain.model import Agent
from hub.domain.visibility import Sight

routes = web.RouteTableDef()
# Leg name on the wire -> file suffix Asterisk gives it (hub-agent dialplan: MixMonitor r()/t()).
LEGS: Mapping[str, str] = {"mix": "", "caller": "-caller", "agent": "-agent"}
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")  # a base name, never a path
RING_STEPS = frozenset({Step.RINGING, Step.NO_ANSWER, Step.TRANSFERRED, Step.ANSWERED})


def add_call_routes(app: web.Application) -> None:
    """Called by the composition root, next to the console's own routes."""
    app.add_routes(routes)


@routes.get("/api/conversations/{id}/call")
async def get_call(request: web.Request) -> web.Response:
    hub, agent = request.app[HUB], request[AGENT_KEY]
    _, sight = await hub.desk.look(agent, request.match_info["id"])  # 403 unless hub.domain.visibility
    record = await call_of(request)
    return web.json_response({"call": await answer(request, record, sight)})


async def call_of(request: web.Request) -> CallRecord:
    record = await request.app[HUB].calls.call_of(request.match_info["id"])
    if record is None:
        raise api_error(404, "not_found", "this conversation has no call")
    return record


async def answer(request: web.Request, record: CallRecord, sight: Sight) -> dict[str, Any]:
    hub = request.app[HUB]
    names: dict[str, str] = {a.id: a.display_name for a in await hub.directory.agents()}
    heard = record.recordings if sight.notes else ()
    legs = await asyncio.to_thread(existing_legs, hub.settings.voice.recordings_dir, heard)
    return call_json(record, hub.clock.now(), names=names, legs=legs)


# -- controls --------------------------------------------------------------------------------------

async def control(request: web.Request) -> tuple[CallControl, Agent, str]:
    """What a control needs, checked in this order: sight (403), a call (404), a line (503)."""
    hub, agent = request.app[HUB], request[AGENT_KEY]
    conversation_id = request.match_info["id"]
    await hub.desk.look(agent, conversation_id)
    await call_of(request)
    line = hub.channels.call_control()
    if line is None:
        raise api_error(503, "unavailable", "phone calls are not enabled on this hub")
    return line, agent, conversation_id


async def after_control(request: web.Request) -> web.Response:
    _, sight = await request.app[HUB].desk.look(request[AGENT_KEY], request.match_info["id"])
    return web.json_response({"call": await answer(request, await call_of(request), sight)})


# The controls without a body: action on the wire -> the line's method.
CONTROLS: Mapping[str, Callable[[CallControl], Callable[[Agent, str], Awaitable[None]]]] = {
    "hold": lambda line: line.hold, "resume": lambda line: line.resume, "hangup": lambda line: line.hang_up}


@routes.post("/api/conversations/{id}/call/{action:hold|resume|hangup}")
async def post_control(request: web.Request) -> web.Response:
    line, agent, conversation_id = await control(request)
    await CONTROLS[request.match_info["action"]](line)(agent, conversation_id)
    return await after_control(request)


@routes.post("/api/conversations/{id}/call/transfer")
async def post_transfer(request: web.Request) -> web.Response:
    data = await body(request, QueueBody)
    line, agent, conversation_id = await control(request)
    await line.transfer(agent, conversation_id, data.queue)
    return await after_control(request)


@routes.post("/api/contacts/{id}/call")
async def post_call_contact(request: web.Request) -> web.Response:
    """An agent calls a customer: her phone rings, then the contact's number (201 with the new
    conversation). Only staff who take calls, and only contacts they may see."""
    hub, agent = request.app[HUB], request[AGENT_KEY]
    if agent.role not in (Role.AGENT, Role.TEAM_LEADER, Role.SUPERVISOR):
        raise api_error(403, "forbidden", "only agents and supervisors make calls")
    await request.app[CONTACTS].profile(agent, request.match_info["id"])  # 403/404 as the contact page
    line = hub.channels.call_control()
    if line is None:
        raise api_error(503, "unavailable", "phone calls are not enabled on this hub")
    conversation_id = await line.call_customer(agent, request.match_info["id"])
    return web.json_response({"conversation_id": conversation_id}, status=201)


# -- recordings ------------------------------------------------------------------------------------

@routes.get("/api/conversations/{id}/recordings/{name}/{leg}")
async def get_recording(request: web.Request) -> web.StreamResponse:
    hub, agent = request.app[HUB], request[AGENT_KEY]
    _, sight = await hub.desk.look(agent, request.match_info["id"])
    if not sight.notes:
        raise api_error(403, "forbidden", "only the agent who took this call, supervisors and admins hear it")
    record = await call_of(request)
    path = recording_path(hub.settings.voice.recordings_dir, record.recordings, request.match_info["name"],
                          request.match_info["leg"])
    if path is None or not await asyncio.to_thread(path.is_file):
        raise api_error(404, "not_found", "no such recording")
    # FileResponse answers Range requests (206 + Content-Range) and If-Range: the player seeks.
    return web.FileResponse(path, headers={"Content-Type": "audio/wav", "Cache-Control": "private, no-store"})


def recording_path(directory: Path, recordings: Sequence[str], name: str, leg: str) -> Path | None:
    """The file of one leg of one of ``recordings``, or None. Only a name the call record lists, of
    the safe shape, under ``directory``: nothing the client sends becomes a path by itself."""
    if leg not in LEGS or name not in recordings or not SAFE_NAME.match(name):
        return None
    root = directory.resolve()
    path = (root / f"{name}{LEGS[leg]}.wav").resolve()
    return path if path.parent == root else None


def existing_legs(directory: Path, recordings: Sequence[str]) -> dict[str, list[str]]:
    """Blocking (stat calls): for each recording, the legs whose file exists."""
    found: dict[str, list[str]] = {}
    for name in recordings:
        found[name] = [leg for leg in LEGS if (path := recording_path(directory, recordings, name, leg))
                       and path.is_file()]
    return found


# -- the JSON shape (docs/api.md, "Calls") ----------------------------------------------------------

def call_state(record: CallRecord) -> str:
    """``ended``, ``held``, ``talking``, ``ringing`` (an agent's phone rings) or ``waiting`` (in line)."""
    if not record.live:
        return "ended"
    if record.held_since is not None:
        return "held"
    if record.answered_at is not None:
        return "talking"
    last = next((s.step for s in reversed(record.steps) if s.step in RING_STEPS), None)
    return "ringing" if last is Step.RINGING else "waiting"


def ringing_agent(record: CallRecord) -> str | None:
    if call_state(record) != "ringing":
        return None
    step = next(s for s in reversed(record.steps) if s.step is Step.RINGING)
    return str(step.detail.get("agent_id") or "") or None


def durations(record: CallRecord, now: datetime) -> dict[str, float | None]:
    """Seconds: ``wait_s`` from arrival to the (last) answer, or to the end or now when unanswered;
    ``talk_s`` from the answer on, hold included; ``hold_s`` all holds, the current one too."""
    until = record.answered_at or record.ended_at or now
    hold_s = record.hold_s
    if record.held_since is not None and record.live:
        hold_s += max(0.0, (now - record.held_since).total_seconds())
    talk_s = record.talk_s(now)
    return {"wait_s": round(max(0.0, (until - record.started_at).total_seconds()), 3),
            "talk_s": None if talk_s is None else round(talk_s, 3), "hold_s": round(hold_s, 3)}


def call_json(record: CallRecord, now: datetime, *, names: Mapping[str, str],
              legs: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """``legs``: the recordings shown (base name -> legs whose file exists), in the record's order."""
    agent_id = record.agent_id or ringing_agent(record)
    menu = next((s.detail for s in record.steps if s.step is Step.MENU), {})
    return {
        "call_id": record.call_id, "conversation_id": record.conversation_id, "state": call_state(record),
        "caller": record.caller, "choice": record.choice, "queue": menu.get("queue") or None,
        "agent": {"id": agent_id, "display_name": names.get(agent_id, "")} if agent_id else None,
        "started_at": iso(record.started_at), "answered_at": iso(record.answered_at),
        "held_since": iso(record.held_since), "ended_at": iso(record.ended_at),
        "ended_by": record.ended_by.value if record.ended_by else None, "callback": record.callback,
        "durations": durations(record, now),
        "steps": [{"at": iso(s.at), "step": s.step.value, "detail": {k: str(v) for k, v in s.detail.items()},
                   **({"agent_name": names.get(str(s.detail["agent_id"]), "")} if "agent_id" in s.detail else {})}
                  for s in record.steps],
        "recordings": [{"name": name, "legs": list(legs[name])} for name in record.recordings if name in legs],
    }
