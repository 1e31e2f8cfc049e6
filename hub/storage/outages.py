"""Outages and their SMS notices in MongoDB (ADR 0036).

``outages``: what a supervisor recorded. ``outage_notices``: one per outage and kind (its ``_id``
is ``<outage>:<kind>``, so a notice cannot be started twice). ``outage_sends``: one per notice
and contact (a unique index), written before the first SMS goes: the durable list the sender
works through, each entry's state and every delivery report Kannel sent for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.errors import BulkWriteError, DuplicateKeyError

from hub.domain.outages import Outage, area_key
from hub.errors import ConcurrentUpdate
from hub.storage.database import DUPLICATE_KEY, Db
from hub.storage.notice_reports import NoticeReports

OPEN_NOTICE_STATES = ("preparing", "sending")  # then done, or cancelled
INDEXES: dict[str, list[IndexModel]] = {
    "outages": [IndexModel([("area_key", ASCENDING), ("restored_at", ASCENDING)])],
    "outage_notices": [IndexModel([("state", ASCENDING)]), IndexModel([("outage_id", ASCENDING)])],
    "outage_sends": [IndexModel([("notice_id", ASCENDING), ("contact_id", ASCENDING)], unique=True)],
    "contacts": [IndexModel([("area_key", ASCENDING)])],
}


async def ensure_outage_indexes(db: Db) -> None:
    for collection, models in INDEXES.items():
        await db[collection].create_indexes(models)


def outage_from_doc(doc: Mapping[str, Any]) -> Outage:
    return Outage(id=doc["_id"], area=doc["area"], cause=doc["cause"], start=doc["start"],
                  expected_restoration=doc["expected_restoration"], restored_at=doc.get("restored_at"))


class MongoOutageStore:
    def __init__(self, db: Db) -> None:
        self._outages = db["outages"]
        self._notices = db["outage_notices"]
        self._sends = db["outage_sends"]
        self._contacts = db["contacts"]
        # Delivery reports, written in batches (its writer runs inside the hub's stack; ADR 0061).
        self.reports = NoticeReports(db)

    # -- outages -----------------------------------------------------------------------------
    async def add(self, doc: Mapping[str, Any]) -> None:
        await self._outages.insert_one(dict(doc))

    async def get(self, outage_id: str) -> dict[str, Any] | None:
        return await self._outages.find_one({"_id": outage_id})

    async def listing(self, *, active_only: bool) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"restored_at": None} if active_only else {}
        return [doc async for doc in self._outages.find(query).sort("start", -1).limit(500)]

    async def restore(self, outage_id: str, at: datetime) -> bool:
        result = await self._outages.update_one({"_id": outage_id, "restored_at": None},
                                                {"$set": {"restored_at": at}})
        return result.modified_count == 1

    async def active(self) -> list[Outage]:
        return [outage_from_doc(d) async for d in self._outages.find({"restored_at": None}).limit(500)]

    # -- contacts' areas (a field on the shared contact document) ----------------------------
    async def area_of(self, contact_id: str) -> str | None:
        doc = await self._contacts.find_one({"_id": contact_id}, {"area": 1})
        return doc.get("area") if doc else None

    async def set_area(self, contact_id: str, area: str | None) -> bool:
        """False: no such contact."""
        change = {"$set": {"area": area, "area_key": area_key(area)}} if area else {
            "$unset": {"area": "", "area_key": ""}}
        result = await self._contacts.update_one({"_id": contact_id, "merged_into": None}, change)
        return result.matched_count == 1

    async def recipients(self, area: str) -> list[tuple[str, str]]:
        """(contact id, phone number) of every live contact in ``area`` with a phone identity."""
        cursor = self._contacts.find({"area_key": area_key(area), "merged_into": None},
                                     {"identities": 1}).sort("_id", ASCENDING)
        found = []
        async for doc in cursor:
            phone = next((i.removeprefix("sms:") for i in doc.get("identities", []) if i.startswith("sms:")), None)
            if phone:
                found.append((doc["_id"], phone))
        return found

    # -- notices -----------------------------------------------------------------------------
    async def add_notice(self, doc: Mapping[str, Any]) -> None:
        try:
            await self._notices.insert_one(dict(doc))
        except DuplicateKeyError:
            raise ConcurrentUpdate("this notice was started already") from None

    async def notice(self, notice_id: str) -> dict[str, Any] | None:
        return await self._notices.find_one({"_id": notice_id})

    async def notices_in(self, state: str) -> list[dict[str, Any]]:
        return [doc async for doc in self._notices.find({"state": state}).sort("created_at", ASCENDING)]

    async def set_notice(self, notice_id: str, **fields: Any) -> None:
        await self._notices.update_one({"_id": notice_id}, {"$set": fields})

    async def set_notice_if(self, notice_id: str, while_in: str, /, **fields: Any) -> bool:
        """``fields`` set only while the notice's state is ``while_in``; False: it is not (cancelled meanwhile)."""
        result = await self._notices.update_one({"_id": notice_id, "state": while_in}, {"$set": fields})
        return result.matched_count == 1

    async def cancel_notice(self, notice_id: str, at: datetime, by: str) -> bool:
        """A notice still preparing or sending is cancelled; False: it was done or cancelled already."""
        result = await self._notices.update_one(
            {"_id": notice_id, "state": {"$in": list(OPEN_NOTICE_STATES)}},
            {"$set": {"state": "cancelled", "cancelled_at": at, "cancelled_by": by}})
        return result.modified_count == 1

    async def notices_of(self, outage_ids: Sequence[str]) -> list[dict[str, Any]]:
        """The notices of these outages (at most two each: the outage's and the restoration's)."""
        if not outage_ids:
            return []
        return [doc async for doc in self._notices.find({"outage_id": {"$in": list(outage_ids)}},
                                                        {"text": 0}).sort("created_at", ASCENDING)]

    # -- sends -------------------------------------------------------------------------------
    async def add_sends(self, docs: Sequence[Mapping[str, Any]]) -> None:
        """Insert the entries; ones already there (a preparation resumed after a crash) are kept as they are."""
        if not docs:
            return
        try:
            await self._sends.insert_many([dict(d) for d in docs], ordered=False)
        except BulkWriteError as err:
            if any(e.get("code") != DUPLICATE_KEY for e in err.details.get("writeErrors", [])):
                raise

    async def count_sends(self, notice_id: str) -> int:
        return await self._sends.count_documents({"notice_id": notice_id})

    async def sends(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """The entries with these ids (a window of the notice's sequence), in the order given."""
        found = {doc["_id"]: doc async for doc in self._sends.find({"_id": {"$in": list(ids)}})}
        return [found[i] for i in ids if i in found]

    async def mark_accepted(self, ids: Sequence[str], at: datetime) -> None:
        if ids:
            await self._sends.update_many({"_id": {"$in": list(ids)}}, {"$set": {"accepted_at": at}})

    async def mark_failed(self, send_id: str, error: str, at: datetime) -> None:
        await self._sends.update_one({"_id": send_id}, {"$set": {"error": error, "failed_at": at}})

    async def record_report(self, ref: str, status: str, at: datetime) -> bool:
        """One delivery report appended to its entry, each status once (Kannel repeats a callback the
        hub was slow to answer); False: no such entry (yet)."""
        return await self.reports.record(ref, status, at)

    async def counts(self, notice_id: str) -> dict[str, int]:
        """Entries with a delivered report, with a failed one (and none delivered), refused by Kannel,
        and all reports recorded."""
        base = {"notice_id": notice_id}
        delivered = await self._sends.count_documents({**base, "dlrs.status": "delivered"})
        failed = await self._sends.count_documents({**base, "dlrs.status": "failed",
                                                    "dlrs": {"$not": {"$elemMatch": {"status": "delivered"}}}})
        refused = await self._sends.count_documents({**base, "error": {"$exists": True}})
        pipeline: list[dict[str, Any]] = [{"$match": base}, {"$project": {"n": {"$size": {"$ifNull": ["$dlrs", []]}}}},
                                          {"$group": {"_id": None, "n": {"$sum": "$n"}}}]
        reports = 0
        async for row in await self._sends.aggregate(pipeline):
            reports = int(row["n"])
        return {"delivered": delivered, "failed": failed, "refused": refused, "reports": reports}
