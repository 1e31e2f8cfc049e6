"""The login session behind each open console socket, checked again after a bus gap (ADR 0066).

A revocation (password change, disabling, "end my other sessions") reaches the other processes as
an ``AgentSessionsRevoked`` fact; one published while this process's bus re-subscribed is lost,
and the revoked agent's open socket would stay until it reconnected. On ``BusResubscribed`` this
process forgets its cached sessions (HTTP reads them again) and reads the session of every open
socket once (one read per session, one per agent); a socket whose session ended, or whose agent
is disabled or gone, is closed as a revocation closes it. The others stay open.
"""

from __future__ import annotations

import logging

from aiohttp import web

from console.auth import SessionCache
from hub.context import HubContext
from hub.domain.events import BusResubscribed
from hub.errors import NotFound
from hub.ports import EventBus
from hub.socket_writer import SocketWriter

logger = logging.getLogger(__name__)

SUBSCRIBER = "console:session_checks"
REVOKED = 4001  # the close code of a revocation (console/live.py ``disconnect``)


class SocketSessions:
    def __init__(self, hub: HubContext, cache: SessionCache) -> None:
        self._hub = hub
        self._cache = cache
        self._open: dict[SocketWriter, tuple[str, str]] = {}  # socket -> (agent id, session token)

    def listen(self, bus: EventBus) -> None:
        bus.subscribe(BusResubscribed, self._on_resubscribed, subscriber=SUBSCRIBER)

    def add(self, writer: SocketWriter, agent_id: str, token: str) -> None:
        self._open[writer] = (agent_id, token)

    def remove(self, writer: SocketWriter) -> None:
        self._open.pop(writer, None)

    async def _on_resubscribed(self, fact: BusResubscribed) -> None:
        self._cache.forget_all()
        valid: dict[str, bool] = {}  # token -> its session holds and its agent may work
        for writer, (agent_id, token) in list(self._open.items()):
            if token not in valid:
                try:
                    valid[token] = await self._holds(agent_id, token)
                except Exception as err:  # MongoDB away: the sockets stay, as before the check
                    logger.warning("console.session_check.failed agent=%s error=%s", agent_id, type(err).__name__)
                    return
            if not valid[token]:
                logger.info("console.session_check.closed agent=%s", agent_id)
                await writer.close(code=REVOKED, message=b"sessions revoked")

    async def _holds(self, agent_id: str, token: str) -> bool:
        session = await self._hub.sessions.get(token, self._hub.clock.now())
        if session is None or session.agent_id != agent_id:
            return False
        try:
            return not (await self._hub.directory.agent(agent_id)).disabled
        except NotFound:
            return False


SOCKET_SESSIONS = web.AppKey("socket_sessions", SocketSessions)
