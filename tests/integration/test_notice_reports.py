"""Kannel's delivery reports on outage notice SMS are appended in batches (issue 11, ADR 0061): the
reports arriving together are one bulk write, counted with SecantusDB's own opcounters; a report
Kannel repeats is recorded once and still answered True; one naming no entry answers False."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from hub.storage.database import Db
from hub.storage.notice_reports import NoticeReports

AT = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


async def _updates(db: Db) -> int:
    return int((await db.client.admin.command("serverStatus"))["opcounters"]["update"])


async def test_reports_arriving_together_are_one_write(db: Db) -> None:
    await db["outage_sends"].insert_many([{"_id": f"ns_k:{i}", "notice_id": "o:outage", "seq": i}
                                          for i in range(10)])
    before = await _updates(db)
    async with NoticeReports(db, gather_s=0.2) as reports:
        answers = await asyncio.gather(
            *(reports.record(f"ns_k:{i}", status, AT) for i in range(10) for status in ("sent", "delivered")),
            reports.record("ns_k:3", "delivered", AT), reports.record("ns_k:unknown", "delivered", AT))
        assert reports.writes == 1
    assert await _updates(db) - before == 1
    assert answers == [True] * 21 + [False]
    stored = [doc async for doc in db["outage_sends"].find({}).sort("seq", 1)]
    assert [[d["status"] for d in doc["dlrs"]] for doc in stored] == [["sent", "delivered"]] * 10
