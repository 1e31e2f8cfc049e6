"""GET /api/kpi/staffing on a real hub (SecantusDB or mongod, Redis): past weeks' conversations go
into ``kpi_intervals`` the way the durable projection writes them, and the forecast per local half
hour, with Erlang C staffing, matches what is computed here by hand (the reference: 100 calls of
180 s in a half hour need 14 agents for 80 % in 20 s)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hub.bootstrap import RunningHub
from hub.domain.stream import StoredEvent
from hub.kpi_intervals import batch_contributions
from hub.storage.database import Db
from hub.storage.kpi_intervals import MongoKpiIntervals
from tests.clients import AgentClient

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the default HUB_KPI__TIME_ZONE
MONDAY = date(2026, 12, 7)
PAST_MONDAYS = (date(2026, 11, 16), date(2026, 11, 23), date(2026, 11, 30))  # 11-09: no data at all
PER_WEEK = (90, 100, 110)  # conversations 09:00-09:30 local: a mean of 100


def conversation(cid: str, queued_at: datetime, handle_s: float, *, channel: str = "webchat",
                 queue: str = "general", agent: str = "alice") -> list[StoredEvent]:
    """Created and queued at ``queued_at``, answered 10 s later, resolved after ``handle_s``."""
    steps = [("created", None, "new", 0.0, None, None), ("queued", "new", "queued", 0.0, queue, None),
             ("offered", "queued", "offered", 5.0, queue, agent),
             ("assigned", "offered", "assigned", 10.0, queue, agent),
             ("resolved", "assigned", "resolved", 10.0 + handle_s, queue, agent)]
    return [StoredEvent(seq=0, id=f"{cid}:{v}", conversation_id=cid, version=v, type=kind, from_state=source,
                        to_state=target, at=queued_at + timedelta(seconds=after), channel=channel, queue=q,
                        agent_id=a, detail={})
            for v, (kind, source, target, after, q, a) in enumerate(steps)]


async def project(db: Db, events: list[StoredEvent]) -> None:
    """What the KpiIntervals consumer writes for these events (hub/projections.py)."""
    histories: dict[str, list[StoredEvent]] = {}
    for event in events:
        histories.setdefault(event.conversation_id, []).append(event)
    await MongoKpiIntervals(db).apply(batch_contributions(events, histories))


@pytest.fixture
async def history(hub: RunningHub, db: Db) -> None:
    events: list[StoredEvent] = []
    for day, count in zip(PAST_MONDAYS, PER_WEEK, strict=True):
        nine = datetime.combine(day, time(9, 0), tzinfo=SHANGHAI)
        for i in range(count):  # every 10 s from 09:00; each resolved within the half hour
            events += conversation(f"{day}-{i}", nine + timedelta(seconds=10 * i), 180)
    ten = datetime.combine(PAST_MONDAYS[-1], time(10, 5), tzinfo=SHANGHAI)
    events += conversation("call-1", ten, 300, channel="voice", queue="billing")
    tuesday = datetime.combine(date(2026, 12, 1), time(9, 0), tzinfo=SHANGHAI)
    events += conversation("tuesday", tuesday, 60)  # another weekday: not in a Monday's forecast
    await project(db, events)


def slot(body: dict[str, Any], hh: int, mm: int = 0) -> dict[str, Any]:
    wanted = datetime.combine(MONDAY, time(hh, mm), tzinfo=SHANGHAI).isoformat()
    found: dict[str, Any] = next(x for x in body["intervals"] if x["local_start"] == wanted)
    return found


async def test_the_forecast_and_staffing_per_half_hour(hub: RunningHub, history: None) -> None:
    sara = await AgentClient(hub.base_url).login("sara")
    try:
        body = await sara.call("GET", "/api/kpi/staffing?date=2026-12-07&target_sl=0.8&target_s=20"
                                      "&max_occupancy=0.85")
    finally:
        await sara.close()
    assert body["date"] == "2026-12-07" and body["time_zone"] == "Asia/Shanghai" and body["weeks"] == 4
    assert body["history_days"] == [d.isoformat() for d in PAST_MONDAYS]
    assert body["target"] == {"service_level": 0.8, "seconds": 20, "max_occupancy": 0.85}
    assert len(body["intervals"]) == 48
    assert body["intervals"][0]["start"] == "2026-12-06T16:00:00.000Z"  # local midnight, UTC+8
    nine = slot(body, 9)
    assert nine["start"] == "2026-12-07T01:00:00.000Z"
    assert (nine["calls"], nine["aht_s"], nine["erlangs"], nine["samples"]) == (100, 180, 10, 3)
    assert nine["agents"] == 14
    assert (nine["service_level"], nine["asa_s"], nine["occupancy"], nine["wait_probability"]) == (
        0.8884, 7.8, 0.7143, 0.1741)
    ten = slot(body, 10)  # one call of 300 s on one of the three Mondays
    assert (ten["calls"], ten["aht_s"], ten["agents"]) == (0.33, 300, 1)
    quiet = slot(body, 3, 30)
    assert (quiet["calls"], quiet["agents"], quiet["service_level"]) == (0, 0, 1.0)
    assert quiet["aht_s"] == round((300 * 180 + 300) / 301, 1)  # no call then: the Mondays' AHT
    assert body["peak_agents"] == 14


async def test_one_channel_or_queue(hub: RunningHub, history: None, db: Db) -> None:
    admin = await AgentClient(hub.base_url).login("admin")
    try:
        chats = await admin.call("GET", "/api/kpi/staffing?date=2026-12-07&channel=webchat")
        billing = await admin.call("GET", "/api/kpi/staffing?date=2026-12-07&queue=billing&weeks=1")
    finally:
        await admin.close()
    assert slot(chats, 10)["calls"] == 0 and slot(chats, 9)["agents"] == 14
    assert chats["target"] == {"service_level": 0.8, "seconds": 20, "max_occupancy": 0.85}  # the defaults
    assert billing["history_days"] == ["2026-11-30"]
    assert (slot(billing, 10)["calls"], slot(billing, 10)["aht_s"]) == (1, 300)
    assert slot(billing, 9)["calls"] == 0
    # The customer's expected wait (hub/customer_notices.py) reads the same projection: a queue's answers.
    nine = datetime.combine(PAST_MONDAYS[-1], time(9, 0), tzinfo=SHANGHAI)
    intervals = MongoKpiIntervals(db)
    assert await intervals.answer_times("general", nine, nine + timedelta(hours=1)) == (110, 110 * 10_000)
    assert await intervals.answer_times("billing", nine, nine + timedelta(hours=1)) == (0, 0)


async def test_no_history_needs_nobody(hub: RunningHub) -> None:
    sara = await AgentClient(hub.base_url).login("sara")
    try:
        body = await sara.call("GET", "/api/kpi/staffing?date=2026-12-07")
    finally:
        await sara.close()
    assert body["history_days"] == [] and body["peak_agents"] == 0
    assert all(x["calls"] == 0 and x["agents"] == 0 and x["aht_s"] == 180 for x in body["intervals"])


@pytest.mark.parametrize("username", ["alice", "tom"])
async def test_agents_and_trainers_are_refused(hub: RunningHub, username: str) -> None:
    client = await AgentClient(hub.base_url).login(username)
    try:
        body = await client.call("GET", "/api/kpi/staffing?date=2026-12-07", expect=403)
    finally:
        await client.close()
    assert body["error"]["code"] == "forbidden"


@pytest.mark.parametrize("query", [
    "", "date=2026-13-01", "date=2026-12-07&target_sl=1", "date=2026-12-07&target_sl=0",
    "date=2026-12-07&max_occupancy=1.5", "date=2026-12-07&target_s=-1", "date=2026-12-07&weeks=0",
    "date=2026-12-07&target_sl=nan", "date=2026-12-07&weeks=x",
])
async def test_bad_queries_are_400(hub: RunningHub, query: str) -> None:
    sara = await AgentClient(hub.base_url).login("sara")
    try:
        body = await sara.call("GET", f"/api/kpi/staffing?{query}", expect=400)
    finally:
        await sara.close()
    assert body["error"]["code"] == "invalid_input"


async def test_it_needs_a_session(hub: RunningHub) -> None:
    client = AgentClient(hub.base_url)
    try:
        await client.call("GET", "/api/kpi/staffing?date=2026-12-07", expect=401)
    finally:
        await client.close()


def test_the_reference_through_the_script() -> None:
    """The scripted Mondays hold the reference case: 100 calls x 180 s / 1800 s = 10 Erlangs."""
    assert sum(PER_WEEK) / len(PER_WEEK) * 180 / 1800 == 10
    assert datetime.combine(MONDAY, time(9), tzinfo=SHANGHAI).astimezone(UTC).hour == 1
