"""Console login sessions in MongoDB (a TTL index expires them); only a hash of the token is stored."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from hub.domain.model import LoginSession
from hub.storage.database import Db


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class MongoSessionStore:
    """Implements ``hub.ports.LoginSessions``."""

    def __init__(self, db: Db) -> None:
        self._sessions = db["sessions"]

    async def create(self, token: str, agent_id: str, csrf_token: str, expires_at: datetime) -> None:
        await self._sessions.insert_one({"_id": token_digest(token), "agent_id": agent_id,
                                         "csrf_token": csrf_token, "expires_at": expires_at})

    async def get(self, token: str, now: datetime) -> LoginSession | None:
        doc = await self._sessions.find_one({"_id": token_digest(token)})
        if doc is None or doc["expires_at"] <= now:  # the TTL monitor runs only once a minute
            return None
        return LoginSession(agent_id=doc["agent_id"], csrf_token=doc["csrf_token"], expires_at=doc["expires_at"])

    async def delete(self, token: str) -> None:
        await self._sessions.delete_one({"_id": token_digest(token)})

    async def delete_for_agent(self, agent_id: str, *, keep_token: str | None = None) -> int:
        """End the agent's sessions (but ``keep_token``'s); returns how many ended."""
        query: dict[str, Any] = {"agent_id": agent_id}
        if keep_token is not None:
            query["_id"] = {"$ne": token_digest(keep_token)}
        return (await self._sessions.delete_many(query)).deleted_count
