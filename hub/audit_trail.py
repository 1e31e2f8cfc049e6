"""The administration's audit trail: who changed what, when, and the record before and after
(agents, queues, canned replies, wrap-up codes, teams, agents' statuses). Never a secret: a password
change is recorded as the fact that it happened, without the password or its hash."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from hub.clock import Clock, iso
from hub.domain.ids import new_id
from hub.domain.model import Agent
from hub.storage.audit import MongoAuditLog

logger = logging.getLogger(__name__)
SECRET_FIELDS = frozenset({"password", "password_hash", "new_password", "current_password"})
Record = Mapping[str, Any] | None


def without_secrets(record: Record) -> dict[str, Any] | None:
    return None if record is None else {k: v for k, v in record.items() if k not in SECRET_FIELDS}


class AuditTrail:
    """Appends one entry per administrative change (``audit`` collection, ``admin: true``) and lists them."""

    def __init__(self, log: MongoAuditLog, clock: Clock) -> None:
        self._log = log
        self._clock = clock

    async def record(self, actor: Agent, action: str, target: str, *, before: Record = None,
                     after: Record = None) -> None:
        """``action`` a dotted name (``agent.created``); ``before``/``after`` the record's JSON."""
        await self._log.record({"_id": new_id("au"), "admin": True, "type": action, "at": self._clock.now(),
                                "actor": actor.id, "actor_name": actor.username, "target": target,
                                "before": without_secrets(before), "after": without_secrets(after)})
        logger.info("admin.audit action=%s target=%s by=%s", action, target, actor.id)

    async def listing(self, limit: int = 200) -> list[dict[str, Any]]:
        return [{"id": e["_id"], "action": e["type"], "at": iso(e.get("at")), "actor": e.get("actor"),
                 "actor_name": e.get("actor_name"), "target": e.get("target"), "before": e.get("before"),
                 "after": e.get("after")} for e in await self._log.admin_entries(limit)]
