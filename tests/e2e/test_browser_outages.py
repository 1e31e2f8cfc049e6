"""Outage notices on the administration page (Chromium): a notice being sent shows its progress, a
supervisor stops it with one click (POST …/notices/outage/cancel) and the row says so; an outage
whose notice was started offers no second one. The notice is stored as the desk stores it (this hub
has no SMS gateway, so no sender works on it: its progress stays where it is)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.async_api import Browser, expect

from hub.bootstrap import RunningHub
from hub.storage.database import Db
from tests.e2e.axe import new_page
from tests.e2e.conftest import sign_in

START = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


async def test_a_supervisor_sees_a_notice_going_out_and_stops_it(hub: RunningHub, browser: Browser, db: Db) -> None:
    await db["outages"].insert_one({
        "_id": "out_lake", "area": "Lakeside", "area_key": "lakeside", "cause": "storm", "start": START,
        "expected_restoration": START + timedelta(hours=2), "restored_at": None, "created_at": START,
        "created_by": "u_sara"})
    await db["outage_notices"].insert_one({
        "_id": "out_lake:outage", "key": "k1", "outage_id": "out_lake", "kind": "outage", "area": "Lakeside",
        "text": "Lakeside: 停电", "state": "sending", "created_at": START, "created_by": "u_sara",
        "total": 5000, "cursor": 120, "inflight": None})
    sara = await sign_in(await new_page(browser), hub.base_url, "sara")
    await sara.goto(f"{hub.base_url}/console/admin")
    row = sara.get_by_test_id("outage-row").filter(has_text="Lakeside")
    line = row.get_by_test_id("outage-notice-line")
    await expect(line).to_contain_text("Outage notice: sending, 120 of 5,000 handed to the SMS gateway")
    await expect(row.get_by_test_id("outage-notice")).to_have_count(0)  # started already: no second one
    await row.get_by_test_id("outage-notice-cancel").click()
    await expect(line).to_have_attribute("data-state", "cancelled")
    await expect(line).to_have_text("Outage notice: cancelled, 120 of 5,000 handed to the SMS gateway")
    await expect(row.get_by_test_id("outage-notice-cancel")).to_have_count(0)
    notice = await db["outage_notices"].find_one({"_id": "out_lake:outage"})
    assert notice is not None and notice["state"] == "cancelled" and notice["cancelled_by"]
    await expect(row.get_by_test_id("outage-restore")).to_be_visible()
