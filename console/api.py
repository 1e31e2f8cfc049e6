"""The console's JSON API (docs/api.md, "Console HTTP"). Handlers: authenticate, parse, call, answer."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

from console.auth import (
    AGENT_KEY,
    COOKIE,
    CSRF_KEY,
    SESSION_CACHE,
    SESSION_TTL,
    authenticate,
    check_csrf,
    login,
    set_session_cookie,
)
from console.errors import api_error
from console.keys import HUB, LIVE, QUALITY
from console.live import SOCKET_HEADER, SUPERVISING, overview_json
from hub.clock import from_ms, iso
from hub.domain.calls import VOICE
from hub.domain.ids import Author
from hub.domain.model import Agent
from hub.domain.reply_limits import DEFAULT_LIMIT
from hub.domain.states import ConversationState
from hub.domain.text import invalid_text_path, json_may_hold_surrogates
from hub.kpi import bot_kpis
from hub.quality import transcript_lines
from hub.teams import team_only
from hub.wire import agent_json, event_json, message_json, summary_json

routes = web.RouteTableDef()
HOLDING = frozenset({ConversationState.OFFERED, ConversationState.ASSIGNED, ConversationState.WRAP_UP})
T = TypeVar("T", bound=BaseModel)
MAX_BODY = 64 * 1024
MAX_MESSAGE_CHARS = 10_000  # no channel takes more in one reply (hub.domain.reply_limits)


class LoginBody(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


class MessageBody(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)  # the channel's own limit is the desk's check
    private: bool = False


class QueueBody(BaseModel):
    queue: str = Field(min_length=1, max_length=100)


class CodeBody(BaseModel):
    code: str = Field(min_length=1, max_length=100)


class TypingBody(BaseModel):
    active: bool


async def body(request: web.Request, model: type[T]) -> T:
    """Parse and validate a JSON body; a clear 4xx for anything else."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise api_error(413, "too_large", f"body over {MAX_BODY} bytes")
    return parse_body(await request.read(), model)


def parse_body(raw: bytes, model: type[T]) -> T:
    """The pure half of ``body``: bytes to a validated model, or an ``api_error`` 400."""
    try:
        text = raw.decode("utf-8")
        data = json.loads(text)
        invalid = invalid_text_path(data) if json_may_hold_surrogates(text) else None
    except (ValueError, RecursionError):  # bad UTF-8 or JSON, 4300+ digit integers, deep nesting
        raise api_error(400, "bad_json", "the body is not valid UTF-8 JSON") from None
    if invalid is not None:  # "\ud800" escapes: JSON allows them, UTF-8 and the database do not
        raise api_error(400, "invalid_text", f"{invalid[:80]}: not valid Unicode (a lone surrogate)")
    try:
        return model.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise api_error(400, "invalid_input", f"{where}: {first['msg']}") from None


@web.middleware
async def session_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every /api/ call but login needs a session; every non-GET also the CSRF header."""
    if request.path.startswith("/api/") and request.path != "/api/login":
        agent, csrf = await authenticate(request)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            check_csrf(request, csrf)
        request[AGENT_KEY] = agent
        request[CSRF_KEY] = csrf
    response: web.StreamResponse = await handler(request)
    return response


def require_supervisor(agent: Agent) -> None:
    if agent.role not in SUPERVISING:
        raise api_error(403, "forbidden", "supervisors and admins only")


@routes.post("/api/login")
async def post_login(request: web.Request) -> web.Response:
    data = await body(request, LoginBody)
    agent, token, csrf = await login(request, data.username, data.password)
    response = web.json_response({"agent": agent_json(agent), "csrf_token": csrf})
    public_url = request.app[HUB].settings.http.public_url or ""
    set_session_cookie(response, token, secure=request.secure or public_url.startswith("https://"))
    return response


@routes.post("/api/logout")
async def post_logout(request: web.Request) -> web.Response:
    await request.app[HUB].sessions.delete(request.cookies[COOKIE])
    request.app[SESSION_CACHE].forget_token(request.cookies[COOKIE])
    response = web.json_response({})
    response.del_cookie(COOKIE, path="/")
    return response


@routes.get("/api/me")
async def get_me(request: web.Request) -> web.Response:
    return web.json_response({"agent": agent_json(request[AGENT_KEY]), "csrf_token": request[CSRF_KEY],
                              "session_ttl_s": int(SESSION_TTL.total_seconds())})


@routes.get("/api/inbox")
async def get_inbox(request: web.Request) -> web.Response:
    hub, agent = request.app[HUB], request[AGENT_KEY]
    mine = await hub.conversations.held_by(agent.id, HOLDING)
    within = None if agent.role in SUPERVISING else frozenset(agent.skills)
    queued = [d for d in await hub.conversations.queued_within(within) if hub.desk.may_view(agent, d)]
    offers = []
    for doc in (d for d in mine if d["state"] == "offered"):
        offer = await hub.acd.offer_of(doc["_id"])
        offers.append({**summary_json(doc), "expires_at": iso(from_ms(offer.expires_ms)) if offer else None})
    return web.json_response({
        "offers": offers,
        "assigned": [summary_json(d) for d in mine if d["state"] != "offered"],
        "queued": [summary_json(d) for d in queued],
    })


@routes.get("/api/conversations/{id}")
async def get_conversation(request: web.Request) -> web.Response:
    hub, agent = request.app[HUB], request[AGENT_KEY]
    doc, sight = await hub.desk.look(agent, request.match_info["id"], with_line=True)  # 403 unless visible
    messages = await hub.messages.timeline(doc["_id"], include_private=sight.notes)
    events = await hub.conversations.events_of(doc["_id"])
    names: dict[str, str] = {a.id: a.display_name for a in await hub.directory.agents()}
    entries: list[tuple[datetime, dict[str, Any]]] = [
        (m.sent_at, {"kind": "message", "message": message_json(m, live=hub.channels.live)}) for m in messages]
    entries += [(e["at"], {"kind": "event", "event": {**event_json(e), "actor_name": names.get(e.get("actor") or "")}})
                for e in events]
    entries += await transcript_entries(request, doc, sight.notes)
    entries.sort(key=lambda entry: entry[0])
    timeline = [entry for _, entry in entries]
    limits = {"reply": hub.channels.reply_limit(doc["channel"]).to_json(), "note": DEFAULT_LIMIT.to_json()}
    return web.json_response({"conversation": summary_json(doc), "timeline": timeline, "limits": limits})


async def transcript_entries(request: web.Request, doc: dict[str, Any],
                             hears: bool) -> list[tuple[datetime, dict[str, Any]]]:
    """A call's transcripts on its timeline (at the call's end), for whoever may hear its recordings."""
    if not hears or doc.get("channel") != VOICE or QUALITY not in request.app:
        return []
    results = await request.app[QUALITY].store.results_of(doc["_id"])
    return [(r["ended_at"], {"kind": "transcript", "transcript": {
        "recording": r["_id"], "score": r.get("score"), "flagged": bool(r.get("flagged")),
        "rules": [hit["rule"] for hit in r.get("hits", [])], "lines": transcript_lines(r)}}) for r in results]


async def conversation_answer(request: web.Request, conversation_id: str) -> web.Response:
    doc = await request.app[HUB].conversations.get_doc(conversation_id)
    return web.json_response({"conversation": summary_json(doc)})


@routes.post("/api/conversations/{id}/accept")
async def post_accept(request: web.Request) -> web.Response:
    hub, agent = request.app[HUB], request[AGENT_KEY]
    offered = await hub.conversations.get(request.match_info["id"])
    if offered.channel == VOICE and offered.state is ConversationState.OFFERED and offered.agent_id == agent.id:
        raise api_error(409, "answer_the_phone", "a call is taken by answering your phone")
    conversation = await hub.acd.accept(agent, offered.id)
    return await conversation_answer(request, conversation.id)


@routes.post("/api/conversations/{id}/decline")
async def post_decline(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    conversation = await hub.acd.decline(request[AGENT_KEY], request.match_info["id"])
    return await conversation_answer(request, conversation.id)


@routes.post("/api/conversations/{id}/messages")
async def post_message(request: web.Request) -> web.Response:
    data = await body(request, MessageBody)
    hub = request.app[HUB]
    agent = request[AGENT_KEY]
    message = await hub.desk.reply(agent, request.match_info["id"], data.text, private=data.private)
    request.app[LIVE].posted(agent.id, request.headers.get(SOCKET_HEADER), message.id)
    return web.json_response({"message": message_json(message, live=hub.channels.live)})


@routes.post("/api/conversations/{id}/wrap_up")
async def post_wrap_up(request: web.Request) -> web.Response:
    hub, data = request.app[HUB], await body(request, CodeBody)
    conversation = await hub.desk.wrap_up(request[AGENT_KEY], request.match_info["id"], data.code)
    return await conversation_answer(request, conversation.id)


@routes.post("/api/conversations/{id}/resolve")
async def post_resolve(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    conversation = await hub.desk.resolve(request[AGENT_KEY], request.match_info["id"])
    return await conversation_answer(request, conversation.id)


@routes.post("/api/conversations/{id}/read")
async def post_read(request: web.Request) -> web.Response:
    await request.app[HUB].desk.read_by_agent(request[AGENT_KEY], request.match_info["id"])
    return web.json_response({})


@routes.post("/api/conversations/{id}/typing")
async def post_typing(request: web.Request) -> web.Response:
    hub, data = request.app[HUB], await body(request, TypingBody)
    await hub.desk.view(request[AGENT_KEY], request.match_info["id"])
    await hub.desk.typing(request.match_info["id"], Author.AGENT, data.active)
    return web.json_response({})


@routes.get("/api/queues")
async def get_queues(request: web.Request) -> web.Response:
    queues = await request.app[HUB].directory.queues()
    return web.json_response({"queues": [{"id": q.id, "name": q.name, "skills": sorted(q.skills),
                                          "priority": q.priority, "hours": dict(q.hours)} for q in queues]})


@routes.get("/api/canned")
async def get_canned(request: web.Request) -> web.Response:
    canned = await request.app[HUB].directory.canned()
    return web.json_response({"canned": [{"id": c.id, "title": c.title, "text": c.text} for c in canned]})


@routes.get("/api/wrap_up_codes")
async def get_wrap_up_codes(request: web.Request) -> web.Response:
    codes = await request.app[HUB].directory.wrap_up_codes()
    return web.json_response({"codes": [{"code": c.code, "label": c.label} for c in codes]})


@routes.get("/api/supervisor/overview")
async def get_overview(request: web.Request) -> web.Response:
    """Supervisors and admins see every agent; a team leader her team's members (hub.teams)."""
    agent = request[AGENT_KEY]
    overview = await overview_json(request.app[HUB])
    return web.json_response({**overview, "agents": team_only(agent, overview["agents"])})


@routes.get("/api/supervisor/kpis")
async def get_kpis(request: web.Request) -> web.Response:
    """Bot KPIs over the last ``hours`` (default 24) from the event table."""
    require_supervisor(request[AGENT_KEY])
    try:
        hours = float(request.query.get("hours", "24"))
    except ValueError:
        raise api_error(400, "invalid_input", "hours must be a number") from None
    if not 0 < hours <= 24 * 366:
        raise api_error(400, "invalid_input", "hours must be between 0 and one year")
    hub = request.app[HUB]
    events = await hub.conversations.events_since(hub.clock.now() - timedelta(hours=hours))
    return web.json_response({"hours": hours, "bot": bot_kpis(events).to_json()})
