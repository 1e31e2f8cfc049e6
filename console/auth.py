"""Console authentication: login sessions (HttpOnly cookie), CSRF tokens and role checks."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from aiohttp import web

from console.errors import api_error
from console.keys import HUB
from hub.domain.model import Agent
from hub.errors import NotFound
from hub.passwords import dummy_hash, verify_password

COOKIE = "hub_session"
SESSION_TTL = timedelta(hours=12)
AGENT_KEY = web.RequestKey("agent", Agent)
CSRF_KEY = web.RequestKey("csrf", str)


async def login(request: web.Request, username: str, password: str) -> tuple[Agent, str, str]:
    """Check the credentials; returns the agent, a new session token and its CSRF token."""
    hub = request.app[HUB]
    agent = await hub.directory.agent_by_username(username)
    valid = await verify_password(agent.password_hash if agent else dummy_hash(), password)
    if agent is None or not valid:
        raise api_error(401, "bad_credentials", "wrong username or password")
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    await hub.sessions.create(token, agent.id, csrf, hub.clock.now() + SESSION_TTL)
    return agent, token, csrf


async def authenticate(request: web.Request) -> tuple[Agent, str]:
    """The agent behind the request's session cookie, and its CSRF token; 401 without one."""
    token = request.cookies.get(COOKIE)
    hub = request.app[HUB]
    session = await hub.sessions.get(token, hub.clock.now()) if token else None
    if session is None:
        raise api_error(401, "unauthenticated", "log in first")
    try:
        return await hub.directory.agent(session["agent_id"]), session["csrf_token"]
    except NotFound:
        raise api_error(401, "unauthenticated", "this account no longer exists") from None


def check_csrf(request: web.Request, expected: str) -> None:
    given = request.headers.get("X-CSRF-Token", "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise api_error(403, "csrf", "missing or wrong X-CSRF-Token header")


def set_session_cookie(response: web.StreamResponse, token: str, secure: bool) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", secure=secure, path="/",
                        max_age=int(SESSION_TTL.total_seconds()))
