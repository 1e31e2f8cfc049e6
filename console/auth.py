"""Console authentication: login sessions (HttpOnly cookie), CSRF tokens and role checks."""

from __future__ import annotations

import hmac
import secrets
import time
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


class SessionCache:
    """Recently verified sessions of this process, so a busy console costs no database reads.

    An entry lives ``ttl_s``; logout and status changes in this process drop it at once, other
    processes see them within ``ttl_s`` (role or skill changes by the CLI too)."""

    def __init__(self, ttl_s: float = 5.0) -> None:
        self._ttl_s = ttl_s
        self._entries: dict[str, tuple[float, Agent, str]] = {}

    def get(self, token: str) -> tuple[Agent, str] | None:
        entry = self._entries.get(token)
        if entry is None or time.monotonic() - entry[0] > self._ttl_s:
            self._entries.pop(token, None)
            return None
        return entry[1], entry[2]

    def put(self, token: str, agent: Agent, csrf: str) -> None:
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[token] = (time.monotonic(), agent, csrf)

    def forget_token(self, token: str) -> None:
        self._entries.pop(token, None)

    def forget_agent(self, agent_id: str) -> None:
        for token in [t for t, (_, agent, _) in self._entries.items() if agent.id == agent_id]:
            del self._entries[token]


SESSION_CACHE = web.AppKey("session_cache", SessionCache)


async def authenticate(request: web.Request) -> tuple[Agent, str]:
    """The agent behind the request's session cookie, and its CSRF token; 401 without one."""
    token = request.cookies.get(COOKIE)
    if not token:
        raise api_error(401, "unauthenticated", "log in first")
    cache = request.app[SESSION_CACHE]
    cached = cache.get(token)
    if cached is not None:
        return cached
    hub = request.app[HUB]
    session = await hub.sessions.get(token, hub.clock.now())
    if session is None:
        raise api_error(401, "unauthenticated", "log in first")
    try:
        agent = await hub.directory.agent(session["agent_id"])
    except NotFound:
        raise api_error(401, "unauthenticated", "this account no longer exists") from None
    cache.put(token, agent, session["csrf_token"])
    return agent, session["csrf_token"]


def check_csrf(request: web.Request, expected: str) -> None:
    given = request.headers.get("X-CSRF-Token", "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise api_error(403, "csrf", "missing or wrong X-CSRF-Token header")


def set_session_cookie(response: web.StreamResponse, token: str, secure: bool) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", secure=secure, path="/",
                        max_age=int(SESSION_TTL.total_seconds()))
