"""The console's account API (docs/api.md, "Accounts"): own password and sessions; admins manage others.

Session and CSRF are the console middleware's, as for every ``/api/`` call. Revocations reach the
other hub processes through the bus: each drops the agent's cached sessions, closes her console
sockets and, for a disabled agent, takes her off routing presence.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from console.api import body
from console.audit import audit
from console.auth import AGENT_KEY, COOKIE, SESSION_CACHE, check_password
from console.errors import api_error
from console.keys import HUB, LIVE
from console.socket_sessions import SOCKET_SESSIONS
from hub.accounts import AccountDesk
from hub.domain.events import AgentSessionsRevoked
from hub.domain.ids import AgentStatus, Role
from hub.domain.model import CONSOLE_LANGUAGES, Agent
from hub.passwords import MAX_PASSWORD_CHARS, HashingBusy
from hub.ports import EventBus
from hub.wire import agent_json

ACCOUNTS = web.AppKey("accounts", AccountDesk)
routes = web.RouteTableDef()


class OwnPasswordBody(BaseModel):
    current_password: str = Field(min_length=1, max_length=MAX_PASSWORD_CHARS)
    new_password: str = Field(min_length=1, max_length=MAX_PASSWORD_CHARS)


class LanguageBody(BaseModel):
    language: str = Field(min_length=2, max_length=2)


class PasswordBody(BaseModel):
    new_password: str = Field(min_length=1, max_length=MAX_PASSWORD_CHARS)


def add_account_routes(app: web.Application, bus: EventBus) -> None:
    """Called by the composition root, after ``init_app``; subscribes to the bus for revocations."""
    hub = app[HUB]

    async def hash_password(password: str) -> str:
        try:
            return await hub.hashing.hash(password)
        except HashingBusy:
            raise api_error(503, "busy", "too many password checks at once; try again in a moment") from None

    app[ACCOUNTS] = AccountDesk(directory=hub.directory, sessions=hub.sessions, hash_password=hash_password,
                                publish=bus.publish)
    app.add_routes(routes)

    async def on_revoked(fact: AgentSessionsRevoked) -> None:
        await forget_sessions(app, fact.agent_id)

    bus.subscribe(AgentSessionsRevoked, on_revoked, subscriber="console:revocations")
    app[SOCKET_SESSIONS].listen(bus)  # a revocation lost in a bus gap: the open sockets' sessions read again


async def forget_sessions(app: web.Application, agent_id: str) -> None:
    """This process's part of a revocation; idempotent (it runs again when the bus event arrives)."""
    app[SESSION_CACHE].forget_agent(agent_id)
    await app[LIVE].disconnect(agent_id)
    hub = app[HUB]
    agent = await hub.directory.agent(agent_id)
    if agent.disabled:
        await hub.acd.set_presence(agent, AgentStatus.OFFLINE)


@routes.post("/api/me/password")
async def post_own_password(request: web.Request) -> web.Response:
    """Needs the current password (throttled like a login); the agent's other sessions end."""
    agent, data = request[AGENT_KEY], await body(request, OwnPasswordBody)
    if await check_password(request, agent.username, data.current_password) is None:
        raise api_error(403, "bad_credentials", "the current password is wrong")
    revoked = await request.app[ACCOUNTS].set_password(agent, data.new_password,
                                                       keep_token=request.cookies[COOKIE])
    await forget_sessions(request.app, agent.id)
    return web.json_response({"revoked": revoked})


@routes.post("/api/me/language")
async def post_own_language(request: web.Request) -> web.Response:
    """The console's language she chose (ADR 0048), kept on her account for every browser."""
    agent, data = request[AGENT_KEY], await body(request, LanguageBody)
    if data.language not in CONSOLE_LANGUAGES:
        raise api_error(400, "invalid_input", f"language must be one of {', '.join(sorted(CONSOLE_LANGUAGES))}")
    hub = request.app[HUB]
    await hub.directory.update_agent(agent.id, {"language": data.language})
    request.app[SESSION_CACHE].forget_agent(agent.id)  # this process's next request reads her afresh
    return web.json_response({"agent": agent_json(await hub.directory.agent(agent.id))})


@routes.post("/api/me/sessions/revoke")
async def post_revoke_own(request: web.Request) -> web.Response:
    agent = request[AGENT_KEY]
    revoked = await request.app[ACCOUNTS].revoke_sessions(agent.id, keep_token=request.cookies[COOKIE])
    await forget_sessions(request.app, agent.id)
    return web.json_response({"revoked": revoked})


@routes.post("/api/agents/{username}/password")
async def post_password(request: web.Request) -> web.Response:
    """An admin sets anyone's password; that agent's sessions end (an admin's own: the others)."""
    target, data = await admin_target(request), await body(request, PasswordBody)
    keep = request.cookies[COOKIE] if target.id == request[AGENT_KEY].id else None
    revoked = await request.app[ACCOUNTS].set_password(target, data.new_password, keep_token=keep)
    await forget_sessions(request.app, target.id)
    await audit(request, "agent.password_reset", target.username, after={"sessions_revoked": revoked})
    return web.json_response({"revoked": revoked})


@routes.post("/api/agents/{username}/disable")
async def post_disable(request: web.Request) -> web.Response:
    target = await admin_target(request)
    if target.id == request[AGENT_KEY].id:
        raise api_error(400, "invalid_input", "you cannot disable your own account")
    updated = await request.app[ACCOUNTS].set_disabled(target, True)
    await forget_sessions(request.app, target.id)
    await audit(request, "agent.disabled", target.username, before={"disabled": target.disabled},
                after={"disabled": True})
    return web.json_response({"agent": agent_json(updated)})


@routes.post("/api/agents/{username}/enable")
async def post_enable(request: web.Request) -> web.Response:
    target = await admin_target(request)
    updated = await request.app[ACCOUNTS].set_disabled(target, False)
    await audit(request, "agent.enabled", target.username, before={"disabled": target.disabled},
                after={"disabled": False})
    return web.json_response({"agent": agent_json(updated)})


@routes.post("/api/agents/{username}/sessions/revoke")
async def post_revoke(request: web.Request) -> web.Response:
    target = await admin_target(request)
    keep = request.cookies[COOKIE] if target.id == request[AGENT_KEY].id else None
    revoked = await request.app[ACCOUNTS].revoke_sessions(target.id, keep_token=keep)
    await forget_sessions(request.app, target.id)
    return web.json_response({"revoked": revoked})


async def admin_target(request: web.Request) -> Agent:
    """The agent named in the path; 403 unless the caller is an admin, then 404 for unknown names."""
    if request[AGENT_KEY].role is not Role.ADMIN:
        raise api_error(403, "forbidden", "admins only")
    return await request.app[ACCOUNTS].find(request.match_info["username"])
