"""Console authentication: login sessions (HttpOnly cookie), CSRF tokens and role checks."""

from __future__ import annotations

import asyncio
import hmac
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web

from console.errors import api_error
from console.keys import HUB
from hub.client_address import client_address, parse_networks
from hub.domain.model import Agent, LoginSession
from hub.errors import NotFound
from hub.passwords import HashingBusy

COOKIE = "hub_session"
SESSION_TTL = timedelta(hours=12)
AGENT_KEY = web.RequestKey("agent", Agent)
CSRF_KEY = web.RequestKey("csrf", str)


async def login(request: web.Request, username: str, password: str) -> tuple[Agent, str, str]:
    """Check the credentials; returns the agent, a new session token and its CSRF token.

    Throttled per account and per client address (429 with Retry-After), the same way for names
    that do not exist; an unknown name costs a hash too. 503 when the hashing pool is full."""
    hub = request.app[HUB]
    agent = await check_password(request, username, password)
    if agent is None:
        raise api_error(401, "bad_credentials", "wrong username or password")
    if agent.disabled:
        raise api_error(403, "account_disabled", "this account is disabled; ask an administrator")
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    await hub.sessions.create(token, agent.id, csrf, hub.clock.now() + SESSION_TTL)
    return agent, token, csrf


async def check_password(request: web.Request, username: str, password: str) -> Agent | None:
    """The agent if ``password`` is hers (disabled or not), else None; throttled as ``login`` says.

    A right password of a disabled account counts as a failure: guessing it must not pay."""
    hub, address = request.app[HUB], _client_address(request)
    wait_s = await hub.logins.attempt(username, address)
    if wait_s > 0:
        raise retry_later(429, "too_many_attempts",
                          f"too many failed attempts; try again in {max(1, math.ceil(wait_s))} s", wait_s)
    agent = await hub.directory.agent_by_username(username)
    try:
        valid = await hub.hashing.verify(agent.password_hash if agent else None, password)
    except HashingBusy:
        await hub.logins.refund(username)
        raise retry_later(503, "busy", "too many logins at once; try again in a moment", 1) from None
    if agent is None or not valid or agent.disabled:
        await hub.logins.failed(username, address)
    else:
        await hub.logins.succeeded(username)
    return agent if valid else None


def _client_address(request: web.Request) -> str:
    """The peer, or behind a configured trusted proxy the address it forwarded (hub.client_address)."""
    trusted = parse_networks(request.app[HUB].settings.http.trusted_proxies)
    return client_address(request.remote, request.headers.getall("X-Forwarded-For", []), trusted)


def retry_later(status: int, code: str, message: str, retry_after_s: float) -> web.HTTPException:
    error = api_error(status, code, message)
    error.headers["Retry-After"] = str(max(1, math.ceil(retry_after_s)))
    return error


class SessionCache:
    """Recently verified sessions of this process, so a busy console costs no database reads.

    An entry lives ``ttl_s``; logout and status changes in this process drop it at once, other
    processes see them within ``ttl_s`` (role or skill changes by the CLI too). Revocations
    (password change, disabling) drop it in every process through the bus (console.account_api).

    Single flight: the requests of one token that miss together (an expired entry under an agent
    who answers many customers a second) share one look-up instead of reading the session and the
    agent once each (ADR 0059). A look-up that a ``forget_*`` overtook answers its own callers but
    stores nothing."""

    def __init__(self, ttl_s: float = 5.0) -> None:
        self._ttl_s = ttl_s
        self._entries: dict[str, tuple[float, Agent, str]] = {}
        self._loading: dict[str, asyncio.Future[Found]] = {}

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

    async def look_up(self, token: str, read: Callable[[], Awaitable[Found]]) -> Found:
        """``read()`` once for every caller of ``token`` waiting at the same time; a found, enabled
        agent is kept for ``ttl_s`` (unless forgotten meanwhile)."""
        loading = self._loading.get(token)
        if loading is not None:
            try:
                return await asyncio.shield(loading)
            except _LookUpAbandoned:  # the request that was reading went away: read for ourselves
                return await self.look_up(token, read)
        future: asyncio.Future[Found] = asyncio.get_running_loop().create_future()
        self._loading[token] = future
        try:
            found = await read()
        except BaseException as err:
            if self._loading.get(token) is future:
                del self._loading[token]
            if not future.done():
                future.set_exception(err if isinstance(err, Exception) else _LookUpAbandoned())
                future.exception()  # retrieved: no "never retrieved" warning when nobody else waited
            raise
        if self._loading.get(token) is future:  # not forgotten while it read
            del self._loading[token]
            if found.agent is not None and found.session is not None and not found.agent.disabled:
                self.put(token, found.agent, found.session.csrf_token)
        future.set_result(found)
        return found

    def forget_token(self, token: str) -> None:
        self._entries.pop(token, None)
        self._loading.pop(token, None)

    def forget_all(self) -> None:
        """Every entry (a revocation may have been lost in a bus gap: console/socket_sessions.py)."""
        self._entries.clear()
        self._loading.clear()

    def forget_agent(self, agent_id: str) -> None:
        for token in [t for t, (_, agent, _) in self._entries.items() if agent.id == agent_id]:
            del self._entries[token]
        self._loading.clear()  # whose look-ups these are is not known yet: none of them is kept


class _LookUpAbandoned(Exception):
    """The request reading a token's session was cancelled; those waiting for it read again."""


@dataclass(frozen=True, slots=True)
class Found:
    """What a token's look-up read: its session (None: none or expired) and the session's agent
    (None: no session, or the account no longer exists)."""

    session: LoginSession | None
    agent: Agent | None


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

    async def read() -> Found:
        session = await hub.sessions.get(token, hub.clock.now())
        if session is None:
            return Found(None, None)
        try:
            return Found(session, await hub.directory.agent(session.agent_id))
        except NotFound:
            return Found(session, None)

    found = await cache.look_up(token, read)
    if found.session is None:
        raise api_error(401, "unauthenticated", "log in first")
    if found.agent is None:
        raise api_error(401, "unauthenticated", "this account no longer exists")
    if found.agent.disabled:  # her sessions were deleted; this covers a session created during the change
        raise api_error(401, "unauthenticated", "this account is disabled")
    return found.agent, found.session.csrf_token


def check_csrf(request: web.Request, expected: str) -> None:
    given = request.headers.get("X-CSRF-Token", "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise api_error(403, "csrf", "missing or wrong X-CSRF-Token header")


def set_session_cookie(response: web.StreamResponse, token: str, secure: bool) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", secure=secure, path="/",
                        max_age=int(SESSION_TTL.total_seconds()))
