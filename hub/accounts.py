"""Console accounts: password changes, disabling and session revocation (the console API and the CLI).

A revocation deletes the sessions in MongoDB, then announces ``agent_sessions_revoked`` on the bus:
every hub process drops the agent's cached sessions and closes her console sockets at once
(``console.account_api``). Without the bus (the CLI without HUB_REDIS_URL, or Redis down), other
processes notice within the session cache's TTL (5 s).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from hub.domain.events import AgentSessionsRevoked, Fact
from hub.domain.ids import AgentId, AgentStatus
from hub.domain.model import Agent
from hub.errors import NotFound
from hub.passwords import check_password_rules
from hub.ports import Directory, LoginSessions

logger = logging.getLogger(__name__)

Publish = Callable[[Fact], Awaitable[None]]


class AccountDesk:
    """Account changes an admin (or the agent herself) makes; each revokes what it must.

    ``hash_password`` runs argon2 off the event loop (the console's bounded pool, the CLI's thread).
    ``publish`` is the bus's (None: no other process is told; they see it within the cache TTL).
    """

    def __init__(self, *, directory: Directory, sessions: LoginSessions,
                 hash_password: Callable[[str], Awaitable[str]], publish: Publish | None) -> None:
        self._directory = directory
        self._sessions = sessions
        self._hash = hash_password
        self._publish = publish

    async def find(self, username: str) -> Agent:
        agent = await self._directory.agent_by_username(username)
        if agent is None:
            raise NotFound(f"no agent {username!r}")
        return agent

    async def set_password(self, agent: Agent, password: str, *, keep_token: str | None = None) -> int:
        """Store a new password; every session but ``keep_token``'s ends. Returns how many ended."""
        check_password_rules(password)
        await self._directory.update_agent(agent.id, {"password_hash": await self._hash(password)})
        logger.info("accounts.password_set agent=%s", agent.id)
        return await self.revoke_sessions(agent.id, keep_token=keep_token)

    async def set_disabled(self, agent: Agent, disabled: bool) -> Agent:
        """Disable (no login, sessions end, status offline) or enable an agent; idempotent."""
        fields: dict[str, Any] = {"disabled": disabled}
        if disabled:
            fields["status"] = AgentStatus.OFFLINE.value
        await self._directory.update_agent(agent.id, fields)
        logger.info("accounts.%s agent=%s", "disabled" if disabled else "enabled", agent.id)
        if disabled:
            await self.revoke_sessions(agent.id)
        return await self._directory.agent(agent.id)

    async def revoke_sessions(self, agent_id: str, *, keep_token: str | None = None) -> int:
        ended = await self._sessions.delete_for_agent(agent_id, keep_token=keep_token)
        logger.info("accounts.sessions_revoked agent=%s count=%d", agent_id, ended)
        if self._publish is not None:
            try:
                await self._publish(AgentSessionsRevoked(agent_id=AgentId(agent_id)))
            except Exception:  # stored already; other processes notice within the cache TTL
                logger.warning("accounts.publish.failed agent=%s", agent_id, exc_info=True)
        return ended
