"""The audit log: who did what to which records, when (append-only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.errors import DuplicateKeyError

from hub.storage.database import Db


class MongoAuditLog:
    """Entries in the ``audit`` collection. ``record`` is idempotent on the entry's ``_id``."""

    def __init__(self, db: Db) -> None:
        self._audit = db["audit"]

    async def record(self, entry: Mapping[str, Any]) -> bool:
        """Store ``entry``; False when an entry with its ``_id`` exists (a repeated step)."""
        try:
            await self._audit.insert_one(dict(entry))
        except DuplicateKeyError:
            return False
        return True

    async def about_contact(self, contact_id: str, limit: int = 50) -> list[dict[str, Any]]:
        cursor = self._audit.find({"contacts": contact_id}).sort("at", -1).limit(limit)
        return await cursor.to_list(None)

    async def admin_entries(self, limit: int = 200) -> list[dict[str, Any]]:
        """The administration's entries (``hub.audit_trail``), the newest first."""
        cursor = self._audit.find({"admin": True}).sort("at", -1).limit(limit)
        return await cursor.to_list(None)
