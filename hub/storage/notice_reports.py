"""Kannel's delivery reports on outage notice SMS, appended to their entries in batches (ADR 0061).

A notice at 100 SMS/s brings 200 reports a second (SMSC ack, then delivered), each one
``update_one`` before: the reports gathered within a few milliseconds (and while the previous
batch is written) are one unordered ``bulk_write``. Each caller returns once its report is stored
(Kannel gets its 200 only then); an id the batch matched nowhere is looked up once for the whole
batch (a report repeated by Kannel is recorded, one of an unknown entry answers False: Kannel
tries again later). One report the database refuses fails only its caller.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from hub.storage.database import Db
from hub.storage.gathering import Gathering

logger = logging.getLogger(__name__)

GATHER_S = 0.005
MAX_BATCH = 500


@dataclass(slots=True)
class Report:
    ref: str
    status: str
    at: datetime
    future: asyncio.Future[bool]


class NoticeReports:
    """Owns its writer task inside ``async with``; without it every report is written at once."""

    def __init__(self, db: Db, *, gather_s: float = GATHER_S) -> None:
        self._sends = db["outage_sends"]
        self._gathering = Gathering(self._write, name="hub:notice-reports", gather_s=gather_s, max_batch=MAX_BATCH)
        self.writes = 0  # bulk writes sent (tests and diagnostics)

    async def __aenter__(self) -> NoticeReports:
        await self._gathering.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._gathering.__aexit__(*exc)

    async def record(self, ref: str, status: str, at: datetime) -> bool:
        """Append the report to entry ``ref``, each status once; False: no such entry (yet)."""
        report = Report(ref, status, at, asyncio.get_running_loop().create_future())
        await self._gathering.add(report)
        return await report.future

    async def _write(self, batch: list[Report]) -> None:
        requests = [UpdateOne({"_id": r.ref, "dlrs.status": {"$ne": r.status}},
                              {"$push": {"dlrs": {"status": r.status, "at": r.at}}}) for r in batch]
        failed: dict[int, Exception] = {}
        matched = 0
        try:
            self.writes += 1
            result = await self._sends.bulk_write(requests, ordered=False)
            matched = result.matched_count
        except BulkWriteError as err:
            for error in err.details.get("writeErrors", []):  # the code only
                failed[error["index"]] = RuntimeError(f"notice report write failed with code {error['code']}")
            matched = int(err.details.get("nMatched", 0))
        except Exception as err:  # nothing known to be written: every caller fails (Kannel retries)
            logger.warning("storage.notice_reports.write_failed size=%d error=%s", len(batch), type(err).__name__)
            failed = {n: err for n in range(len(batch))}
        known: set[str] | None = None
        if matched < len(batch) - len(failed):  # repeats (already recorded) or unknown ids: one look
            try:
                refs = sorted({r.ref for n, r in enumerate(batch) if n not in failed})
                known = {doc["_id"] async for doc in self._sends.find({"_id": {"$in": refs}}, {"_id": 1})}
            except Exception as err:
                failed.update({n: err for n in range(len(batch)) if n not in failed})
        for n, report in enumerate(batch):
            if report.future.done():
                continue
            if n in failed:
                report.future.set_exception(failed[n])
            else:
                report.future.set_result(known is None or report.ref in known)
