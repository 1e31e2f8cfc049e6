"""Where each mailbox's reading stands: the last UID handed to the hub, per UIDVALIDITY (MongoDB).

UIDs only grow within one UIDVALIDITY (RFC 3501 section 2.3.1.1), so "every UID above the last one
stored" is exactly what is new, across restarts and in any number of hub processes. The UID is
stored only after the hub has stored the message; a crash in between reads it again, and the
Message-ID dedupe makes that harmless.
"""

from __future__ import annotations

from datetime import datetime

from pymongo.errors import PyMongoError

from hub.errors import ServiceUnavailable
from hub.storage.database import Db


class MongoMailboxProgress:
    """Implements ``hub.ports.MailboxProgress``; a MongoDB failure is ``ServiceUnavailable``."""

    def __init__(self, db: Db) -> None:
        self._progress = db["email_progress"]

    async def last_uid(self, mailbox: str, uidvalidity: int) -> int:
        try:
            doc = await self._progress.find_one({"_id": mailbox})
        except PyMongoError as err:
            raise ServiceUnavailable("mailbox progress unavailable") from err
        if doc is None or doc.get("uidvalidity") != uidvalidity:
            return 0  # a new mailbox, or one whose UIDs were renumbered: read all (deduplicated)
        return int(doc.get("uid", 0))

    async def advance(self, mailbox: str, uidvalidity: int, uid: int, at: datetime) -> None:
        """Only forward: a slower process never moves another's progress back."""
        try:
            await self._advance(mailbox, uidvalidity, uid, at)
        except PyMongoError as err:
            raise ServiceUnavailable("mailbox progress unavailable") from err

    async def _advance(self, mailbox: str, uidvalidity: int, uid: int, at: datetime) -> None:
        await self._progress.update_one(
            {"_id": mailbox, "$or": [{"uidvalidity": {"$ne": uidvalidity}}, {"uid": {"$lt": uid}}]},
            {"$set": {"uidvalidity": uidvalidity, "uid": uid, "at": at}}, upsert=False)
        await self._progress.update_one({"_id": mailbox}, {"$setOnInsert": {"uidvalidity": uidvalidity, "uid": uid,
                                                                            "at": at}}, upsert=True)
