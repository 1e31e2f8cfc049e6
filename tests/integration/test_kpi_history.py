"""A scripted day across web chat, SMS and calls whose figures are computed by hand below, against
a running hub: its durable projection, ``/api/kpi/history`` (JSON and CSV), the drill-downs,
``/api/kpi/today`` and who may read them.

The day's events are written into the real event table through the real numbering
(``MongoEventSequence``), as the conversation core writes them; the hub's own durable consumer
projects them into ``kpi_intervals``. The centre is in Asia/Shanghai (UTC+8, the default): the
day 2026-03-10 starts at 2026-03-09 16:00 UTC, so its morning is on the UTC day before. A hub
set to Europe/Berlin shows the autumn DST day with 25 hours through the API.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from redis.asyncio import Redis

from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.config import KpiSettings
from hub.kpi_figures import local_midnight
from hub.storage.database import Db
from hub.storage.eventlog import MongoCheckpoints, MongoEventSequence, MongoEventStream
from tests.clients import AgentClient, WidgetClient
from tests.conftest import eventually, make_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 3, 10, 7, 0, tzinfo=SHANGHAI)  # 2026-03-09 23:00 UTC
NEXT_DAY = datetime(2026, 3, 11, 0, 5, tzinfo=SHANGHAI)  # 2026-03-10 16:05 UTC: the UTC date of DAY
KEEP: Any = object()


@dataclass
class Script:
    """One conversation: its document and its events, versioned as the core writes them."""

    cid: str
    channel: str
    contact: str
    start: datetime
    events: list[dict[str, Any]] = field(default_factory=list)
    state: str | None = None
    queue: str | None = None
    agent: str | None = None
    contact_id: str = ""

    def step(self, kind: str, target: str, after_s: float, *, queue: Any = KEEP, agent: Any = KEEP,
             **detail: str) -> Script:
        self.queue = self.queue if queue is KEEP else queue
        self.agent = self.agent if agent is KEEP else agent
        version = len(self.events)
        self.events.append({
            "_id": f"{self.cid}:{version}", "conversation_id": self.cid, "version": version, "type": kind,
            "from_state": self.state, "to_state": target, "at": self.start + timedelta(seconds=after_s),
            "channel": self.channel, "queue": self.queue, "agent_id": self.agent, "actor": "script",
            "detail": detail, "changes": {}})
        self.state = target
        return self

    def document(self) -> dict[str, Any]:
        return {"_id": self.cid, "contact_id": self.contact_id or f"contact-{self.cid}", "contact_name": self.contact,
                "channel": self.channel, "state": self.state, "version": len(self.events) - 1, "queue": self.queue,
                "priority": 0, "skills": [], "agent_id": self.agent, "created_at": self.start,
                "updated_at": self.events[-1]["at"], "language": "en", "preview": "", "unread": 0}


def the_day() -> list[Script]:
    s = DAY
    return [
        # W1: chat answered by alice after 12 s, wrap-up 07:05:12, resolved a minute later.
        Script("W1", "webchat", "Wang Fang", s).step("created", "new", 0).step("queued", "queued", 0, queue="general")
        .step("offered", "offered", 5, agent="alice").step("assigned", "assigned", 12)
        .step("wrapped_up", "wrap_up", 312).step("resolved", "resolved", 372),
        # W2: the customer left after 30 s in the queue (a chat has no short abandon).
        Script("W2", "webchat", "Li Na", s + timedelta(seconds=60)).step("created", "new", 0)
        .step("queued", "queued", 0, queue="general").step("resolved", "resolved", 30),
        # S1: the bot hands over to billing; bob declines, alice answers after 45 s and transfers
        # to general 60 s later, where bob answers after 15 s and resolves 300 s later.
        Script("S1", "sms", "Zhang Wei", s + timedelta(seconds=120)).step("created", "new", 0)
        .step("bot_started", "bot", 0).step("handed_over", "queued", 30, queue="billing", reason="asked")
        .step("offered", "offered", 35, agent="bob").step("declined", "queued", 45, agent=None, agent_id="bob")
        .step("offered", "offered", 50, agent="alice").step("assigned", "assigned", 75)
        .step("transferred", "queued", 135, queue="general", agent=None).step("offered", "offered", 140, agent="bob")
        .step("assigned", "assigned", 150).step("resolved", "resolved", 450)
        # Two days later (after the days read below) staff reopen it and bob resolves it again.
        .step("reopened", "queued", 2 * 86_400, agent=None, from_state="resolved")
        .step("offered", "offered", 2 * 86_400 + 5, agent="bob").step("assigned", "assigned", 2 * 86_400 + 9)
        .step("resolved", "resolved", 2 * 86_400 + 99),
        # S2: the bot answers it alone.
        Script("S2", "sms", "Chen Jie", s + timedelta(seconds=600)).step("created", "new", 0)
        .step("bot_started", "bot", 0).step("resolved", "resolved", 60),
        # V1 (09:00): alice answers after 10 s, talks 150 s of which 30 s on hold, 60 s after-work.
        Script("V1", "voice", "Liu Yang", s + timedelta(hours=2)).step("created", "new", 0)
        .step("queued", "queued", 0, queue="general").step("offered", "offered", 3, agent="alice")
        .step("assigned", "assigned", 10)
        .step("call_ended", "wrap_up", 190, ended_by="caller", talk_s="150", hold_s="30")
        .step("resolved", "resolved", 250),
        # V2: hung up after 3 s: a short abandon.
        Script("V2", "voice", "Zhao Min", s + timedelta(hours=2, seconds=300)).step("created", "new", 0)
        .step("queued", "queued", 0, queue="general").step("abandoned", "abandoned", 3, wait_s="3", short="yes"),
        # V3: bob's phone rang out; the caller hung up after 40 s.
        Script("V3", "voice", "Sun Li", s + timedelta(hours=2, seconds=400)).step("created", "new", 0)
        .step("queued", "queued", 0, queue="general").step("offered", "offered", 2, agent="bob")
        .step("offer_timed_out", "queued", 17, agent=None, agent_id="bob")
        .step("abandoned", "abandoned", 40, wait_s="40", short="no"),
        # V4: five minutes into the next local day (the same UTC date): answered by alice after 8 s.
        Script("V4", "voice", "Zhou Qiang", NEXT_DAY).step("created", "new", 0)
        .step("queued", "queued", 0, queue="general").step("offered", "offered", 1, agent="alice")
        .step("assigned", "assigned", 8).step("call_ended", "wrap_up", 68, ended_by="agent", talk_s="60", hold_s="0")
        .step("resolved", "resolved", 98),
    ]


def answered(cid: str, channel: str, of: str, at: datetime, queue: str = "general", name: str = "Repeat") -> Script:
    """A later conversation of ``of``'s contact, answered and resolved (a repeat contact or not)."""
    return Script(cid, channel, name, at, contact_id=f"contact-{of}").step("created", "new", 0) \
        .step("queued", "queued", 0, queue=queue).step("offered", "offered", 2, agent="alice") \
        .step("assigned", "assigned", 5).step("resolved", "resolved", 65)


def the_repeats() -> list[Script]:
    """First-contact resolution (7 days, the same queue): W1's contact comes back to general two days
    later (not resolved at first contact), S1's comes back but to billing (another topic: S1 was
    resolved in general), V1's after 8 days (outside the window), V4's the next day to general."""
    return [answered("R1", "webchat", "W1", DAY + timedelta(days=2), name="=HYPERLINK(\"http://x\";\"pay\")"),
            answered("R2", "sms", "S1", DAY + timedelta(days=3), queue="billing"),
            answered("R3", "voice", "V1", DAY + timedelta(days=8)),
            answered("R4", "voice", "V4", NEXT_DAY + timedelta(days=1))]


# By hand. Day 2026-03-10, all queues (the queue buckets; agents' buckets are apart):
#   offered   W1, W2, S1 (handed over to billing), S1 (transferred into general), V1, V2, V3 = 7
#   answered  W1 12 s, S1 45 s (billing), S1 15 s (general), V1 10 s = 4; within 20 s: 3
#   abandoned W2 30 s, V2 3 s (short), V3 40 s = 3
#   service level = 3 / (4 + 3 - 1) = 0.5; answer rate 4/6; abandon rate (3 - 1)/6
#   ASA = (12 + 45 + 15 + 10) / 4 = 20.5 s; longest wait 45 s
#   handled W1 360 s, S1 360 s (alice's 60 s before her transfer + bob's 300 s: one conversation),
#   V1 240 s (150 talk incl. 30 hold + 60 after-work): AHT 960 / 3 = 320 s; after-work (60 + 0 + 60) / 3 = 40 s
#   transfers out 1 of 4 answered = 0.25; with the bot S1, S2, resolved by it S2: containment 0.5
#   first-contact resolution: of W1, S1, V1 (all decided: their 7 days have passed) W1 came back and
#   S1 was reopened: 1/3; reopened S1 (bob's resolution): 1 of 3 resolved
DAY_TOTAL = {
    "offered": 7, "answered": 4, "abandoned": 3, "abandoned_short": 1, "answered_in_sl": 3, "service_level": 0.5,
    "answer_rate": 4 / 6, "abandon_rate": 2 / 6, "asa_s": 20.5, "longest_wait_s": 45.0, "handled": 3,
    "aht_s": 320.0, "after_work_s": 40.0, "transferred_out": 1, "transfer_rate": 0.25, "with_bot": 2,
    "resolved_by_bot": 1, "bot_containment": 0.5, "outbound": 0, "fcr": 1 / 3, "fcr_decided": 3, "fcr_pending": 0,
    "reopened": 1, "reopen_rate": 1 / 3,
}
# 2026-03-11: V4 alone: answered in 8 s, handled 90 s of which 30 s after-work.
NEXT_TOTAL = {
    "offered": 1, "answered": 1, "abandoned": 0, "abandoned_short": 0, "answered_in_sl": 1, "service_level": 1.0,
    "answer_rate": 1.0, "abandon_rate": 0.0, "asa_s": 8.0, "longest_wait_s": 8.0, "handled": 1, "aht_s": 90.0,
    "after_work_s": 30.0, "transferred_out": 0, "transfer_rate": 0.0, "with_bot": 0, "resolved_by_bot": 0,
    "bot_containment": None, "outbound": 0, "fcr": 0.0, "fcr_decided": 1,  # V4's contact came back
    "reopened": 0, "reopen_rate": 0.0,
}
# The ISO week (cut to the two days): the sums, then the same formulas.
WEEK_TOTAL = {**DAY_TOTAL, "offered": 8, "answered": 5, "answered_in_sl": 4, "service_level": 4 / 7,
              "answer_rate": 5 / 7, "abandon_rate": 2 / 7, "asa_s": 90 / 5, "handled": 4, "aht_s": 1050 / 4,
              "after_work_s": 150 / 4, "transfer_rate": 1 / 5, "fcr": 1 / 4, "fcr_decided": 4,
              "reopen_rate": 1 / 4}
BY_QUEUE = {  # day 2026-03-10
    "general": {"offered": 6, "answered": 3, "abandoned": 3, "abandoned_short": 1, "answered_in_sl": 3,
                "service_level": 3 / 5, "asa_s": 37 / 3, "longest_wait_s": 40.0, "handled": 3, "aht_s": 320.0,
                "transferred_out": 0, "fcr": 1 / 3, "reopened": 1, "reopen_rate": 1 / 3},
    "billing": {"offered": 1, "answered": 1, "abandoned": 0, "answered_in_sl": 0, "service_level": 0.0,
                "asa_s": 45.0, "longest_wait_s": 45.0, "handled": 0, "aht_s": None, "transferred_out": 1,
                "transfer_rate": 1.0, "fcr": None},
    "": {"offered": 0, "answered": 0, "service_level": None, "with_bot": 2, "resolved_by_bot": 1,
         "bot_containment": 0.5},
}
BY_CHANNEL = {
    "webchat": {"offered": 2, "answered": 1, "abandoned": 1, "abandoned_short": 0, "service_level": 0.5,
                "asa_s": 12.0, "longest_wait_s": 30.0, "handled": 1, "aht_s": 360.0, "after_work_s": 60.0,
                "fcr": 0.0},
    "sms": {"offered": 2, "answered": 2, "abandoned": 0, "service_level": 0.5, "asa_s": 30.0, "longest_wait_s": 45.0,
            "handled": 1, "aht_s": 360.0, "after_work_s": 0.0, "transfer_rate": 0.5, "bot_containment": 0.5,
            "fcr": 0.0, "reopened": 1, "reopen_rate": 1.0},
    "voice": {"offered": 3, "answered": 1, "abandoned": 2, "abandoned_short": 1, "service_level": 0.5,
              "answer_rate": 0.5, "asa_s": 10.0, "longest_wait_s": 40.0, "handled": 1, "aht_s": 240.0,
              "after_work_s": 60.0, "fcr": 1.0},
}
# An agent's handled are her parts: alice resolved W1 (360 s) and V1 (240 s) and handed S1 on after 60 s.
BY_AGENT = {
    "alice": {"answered": 3, "asa_s": 67 / 3, "handled": 3, "aht_s": 660 / 3, "after_work_s": 40.0,
              "transferred_out": 1, "transfer_rate": 1 / 3, "offered": 0, "service_level": None,
              "longest_wait_s": None, "fcr": 1 / 2, "reopened": 0, "reopen_rate": 0.0},
    "bob": {"answered": 1, "asa_s": 15.0, "handled": 1, "aht_s": 300.0, "after_work_s": 0.0, "transferred_out": 0,
            "fcr": 0.0, "reopened": 1, "reopen_rate": 1.0},
}


async def write(db: Db, scripts: list[Script]) -> None:
    sequence = MongoEventSequence(db)
    for event in sorted((e for s in scripts for e in s.events), key=lambda e: e["at"]):
        await sequence.insert(event)
    await db["conversations"].insert_many([s.document() for s in scripts])


async def projected(db: Db) -> bool:
    last = await MongoEventStream(db).last()
    return last > 0 and (await MongoCheckpoints(db).load("kpi_intervals")).seq >= last


def close(row: dict[str, Any], expected: dict[str, Any]) -> None:
    got = {name: row[name] for name in expected}
    assert got == pytest.approx(expected), (row.get("period"), got)


@pytest.fixture
async def day(hub: RunningHub, db: Db) -> RunningHub:
    await write(db, the_day() + the_repeats())
    await eventually(lambda: projected(db), timeout=20)
    return hub


async def history(client: AgentClient, **query: str) -> list[dict[str, Any]]:
    path = "/api/kpi/history?" + "&".join(f"{k}={v}" for k, v in query.items())
    data = await client.call("GET", path)
    assert data["time_zone"] == "Asia/Shanghai"
    return data["rows"]  # type: ignore[no-any-return]


async def test_the_scripted_day_by_day_week_interval_queue_channel_and_agent(day: RunningHub) -> None:
    sara = await AgentClient(day.base_url).login("sara")
    try:
        by_day = await history(sara, **{"from": "2026-03-10", "to": "2026-03-11", "by": "day"})
        assert [r["period"] for r in by_day] == ["2026-03-10", "2026-03-11"]
        assert by_day[0]["start"] == "2026-03-09T16:00:00.000Z" and by_day[0]["end"] == "2026-03-10T16:00:00.000Z"
        close(by_day[0], DAY_TOTAL)
        close(by_day[1], NEXT_TOTAL)
        assert by_day[0]["service_level_s"] == 20 and by_day[0]["service_level_target"] == 0.8

        (week,) = await history(sara, **{"from": "2026-03-10", "to": "2026-03-11", "by": "week"})
        assert week["period"] == "2026-W11"
        close(week, WEEK_TOTAL)

        quarters = await history(sara, **{"from": "2026-03-10", "to": "2026-03-10", "by": "interval"})
        assert [r["period"] for r in quarters] == ["2026-03-10T07:00+08:00", "2026-03-10T09:00+08:00"]
        close(quarters[0], {"offered": 4, "answered": 3, "abandoned": 1, "abandoned_short": 0})
        close(quarters[1], {"offered": 3, "answered": 1, "abandoned": 2, "abandoned_short": 1})

        for group, expected in (("queue", BY_QUEUE), ("channel", BY_CHANNEL), ("agent", BY_AGENT)):
            found = await history(sara, **{"from": "2026-03-10", "to": "2026-03-10", "group": group})
            assert {r[group] for r in found} == set(expected), group
            for row in found:
                close(row, expected[row[group]])
    finally:
        await sara.close()


async def test_the_csv_is_the_same_table_with_figures_formatted(day: RunningHub) -> None:
    sara = await AgentClient(day.base_url).login("sara")
    try:
        rows = await history(sara, **{"from": "2026-03-10", "to": "2026-03-10", "group": "channel"})
        url = day.base_url + "/api/kpi/history?from=2026-03-10&to=2026-03-10&group=channel&format=csv"
        async with sara.session.get(url) as resp:
            assert resp.status == 200 and resp.content_type == "text/csv"
            disposition = resp.headers["Content-Disposition"]
            assert disposition == 'attachment; filename="kpi-2026-03-10-2026-03-10-day-channel.csv"'
            table = list(csv.DictReader(io.StringIO(await resp.text())))
    finally:
        await sara.close()
    assert [(r["period"], r["channel"]) for r in table] == [(r["period"], r["channel"]) for r in rows]
    sms = next(r for r in table if r["channel"] == "sms")
    assert sms["offered"] == "2" and sms["answered"] == "2" and sms["abandoned"] == "0"
    assert sms["service_level %"] == "50.0" and sms["bot_containment %"] == "50.0" and sms["asa_s"] == "30.0"
    assert sms["longest_wait_s"] == "45.0" and sms["aht_s"] == "360.0" and sms["service_level_target %"] == "80.0"
    voice = next(r for r in table if r["channel"] == "voice")
    assert voice["abandoned_short"] == "1" and voice["aht_s"] == "240.0" and voice["bot_containment %"] == ""


async def drill(client: AgentClient, figure: str, first: str = "2026-03-10", last: str = "2026-03-10",
                **where: str) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={v}" for k, v in {"from": first, "to": last, "figure": figure, **where}.items())
    data = await client.call("GET", f"/api/kpi/conversations?{query}")
    assert data["figure"] == figure and data["truncated"] is False
    return data["conversations"]  # type: ignore[no-any-return]


async def test_every_figure_drills_down_to_the_conversations_counted_in_it(day: RunningHub) -> None:
    sara = await AgentClient(day.base_url).login("sara")
    try:
        abandoned = await drill(sara, "abandoned")
        assert [(c["conversation_id"], c["contact_name"], c["state"]) for c in abandoned] == [
            ("W2", "Li Na", "resolved"), ("V2", "Zhao Min", "abandoned"), ("V3", "Sun Li", "abandoned")]
        assert abandoned[1]["local_time"] == "2026-03-10T09:05:03+08:00"
        assert abandoned[1]["at"] == "2026-03-10T01:05:03.000Z"
        assert [c["conversation_id"] for c in await drill(sara, "abandoned_short")] == ["V2"]
        assert [c["conversation_id"] for c in await drill(sara, "answered", agent="alice")] == ["W1", "S1", "V1"]
        (moved,) = await drill(sara, "transferred", queue="billing")
        assert (moved["conversation_id"], moved["queue"], moved["event"]) == ("S1", "billing", "transferred")
        assert await drill(sara, "transferred", queue="general") == []
        assert [c["conversation_id"] for c in await drill(sara, "offered", channel="voice")] == ["V1", "V2", "V3"]
        assert [c["conversation_id"] for c in await drill(sara, "offered", "2026-03-11", "2026-03-11")] == ["V4"]
        assert [c["conversation_id"] for c in await drill(sara, "resolved_by_bot")] == ["S2"]
        for figure, count in (("offered", "offered"), ("answered", "answered"), ("abandoned", "abandoned"),
                              ("handled", "handled"), ("transferred", "transferred_out"), ("with_bot", "with_bot")):
            assert len(await drill(sara, figure)) == DAY_TOTAL[count], figure
        await sara.call("GET", "/api/kpi/conversations?from=2026-03-10&to=2026-03-10&figure=aht_s", expect=400)
        await sara.call("GET", "/api/kpi/history?from=2026-03-11&to=2026-03-10", expect=400)
        await sara.call("GET", "/api/kpi/history?from=2026-03-10&to=2026-03-10&by=month", expect=400)
        await sara.call("GET", "/api/kpi/history?to=2026-03-10", expect=400)
    finally:
        await sara.close()


@pytest.mark.parametrize("username", ["alice", "tom"])
async def test_agents_and_trainers_get_403(hub: RunningHub, username: str) -> None:
    client = await AgentClient(hub.base_url).login(username)
    try:
        for path in ("/api/kpi/history?from=2026-03-10&to=2026-03-10", "/api/kpi/today",
                     "/api/kpi/history?from=2026-03-10&to=2026-03-10&format=csv",
                     "/api/kpi/conversations?from=2026-03-10&to=2026-03-10&figure=answered"):
            data = await client.call("GET", path, expect=403)
            assert data["error"]["code"] == "forbidden"
    finally:
        await client.close()


async def test_today_is_the_local_day_so_far_from_local_midnight(hub: RunningHub, db: Db) -> None:
    """Yesterday's figures are gone at local midnight by the clock, not at today's first event."""
    now = hub.context.clock.now()
    start = local_midnight(now.astimezone(SHANGHAI).date(), SHANGHAI)
    if now - start < timedelta(minutes=2):  # just after midnight: let today's script lie in the past
        await eventually(lambda: hub.context.clock.now() - start >= timedelta(minutes=2), timeout=130, interval=1)
    yesterday = Script("Y", "voice", "Ma Lin", start - timedelta(minutes=10)).step("created", "new", 0) \
        .step("queued", "queued", 0, queue="general").step("abandoned", "abandoned", 50, wait_s="50", short="no")
    call = Script("T1", "voice", "He Ping", start + timedelta(seconds=5)).step("created", "new", 0) \
        .step("queued", "queued", 0, queue="general").step("offered", "offered", 5, agent="alice") \
        .step("assigned", "assigned", 25)
    chat = Script("T2", "webchat", "Guo Hua", start + timedelta(seconds=40)).step("created", "new", 0) \
        .step("queued", "queued", 0, queue="billing").step("offered", "offered", 2, agent="bob") \
        .step("assigned", "assigned", 6)
    await write(db, [yesterday, call, chat])
    await eventually(lambda: projected(db), timeout=20)
    sara = await AgentClient(hub.base_url).login("sara")
    try:
        today = await sara.call("GET", "/api/kpi/today")
    finally:
        await sara.close()
    assert today["day"] == start.astimezone(SHANGHAI).date().isoformat() and today["time_zone"] == "Asia/Shanghai"
    assert today["from"] == start.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    # Answered after 25 s (not within 20 s) and after 6 s; yesterday's abandoned call is not today's.
    assert today["total"] == pytest.approx({"offered": 2, "answered": 2, "abandoned": 0, "abandoned_short": 0,
                                            "service_level": 0.5, "asa_s": 15.5, "longest_wait_s": 25.0,
                                            "handled": 0, "aht_s": None, "occupancy": None,
                                            "surveys_answered": 0, "csat": None, "csat_mean": None})
    assert today["service_level_s"] == 20 and today["service_level_target"] == 0.8
    queues = {q["queue"]: q for q in today["queues"]}
    assert queues["general"]["service_level"] == 0.0 and queues["billing"]["service_level"] == 1.0
    assert queues["general"]["longest_wait_s"] == 25.0 and queues["billing"]["asa_s"] == 6.0
    channels = {c["channel"]: c for c in today["channels"]}
    assert channels["voice"]["answered"] == 1 and channels["webchat"]["answered"] == 1
    assert set(queues) == {"general", "billing"} and set(channels) == {"voice", "webchat"}


def test_the_script_is_the_days_it_claims() -> None:
    assert DAY.astimezone(UTC).date() == date(2026, 3, 9) and NEXT_DAY.astimezone(UTC).date() == date(2026, 3, 10)


async def chat_resolved_by(agent: AgentClient, name: str, text: str, *, wrap_up: str | None = None) -> str:
    """A web-chat customer writes, ``agent`` (online) takes the offer, wraps up if asked and resolves;
    returns the conversation id."""
    async with aiohttp.ClientSession() as http:
        widget = WidgetClient(agent.base_url, http)
        await widget.connect(name=name)
        await widget.say(text)
        conversation_id = await agent.take_offer()
        if wrap_up is not None:
            await agent.call("POST", f"/api/conversations/{conversation_id}/wrap_up", {"code": wrap_up})
        await agent.call("POST", f"/api/conversations/{conversation_id}/resolve")
        await widget.close()
    return conversation_id


async def test_a_chat_through_the_real_core_is_counted_as_its_events_say(hub: RunningHub, db: Db) -> None:
    """Web chat end to end (widget, offer, accept, wrap-up, resolve): the figures are the times of
    its stored events, worked out here, in /api/kpi/today, the history and the drill-down."""
    alice = await AgentClient.online(hub.base_url, "alice")
    sara = await AgentClient(hub.base_url).login("sara")
    try:
        conversation_id = await chat_resolved_by(alice, "Ann Lee", "my meter shows zero",
                                                 wrap_up="resolved_first_contact")
        await eventually(lambda: projected(db), timeout=20)
        at = {e["type"]: e["at"] for e in await hub.context.conversations.events_of(conversation_id)}
        wait_s = (at["assigned"] - at["queued"]).total_seconds()
        handle_s = (at["resolved"] - at["assigned"]).total_seconds()
        after_s = (at["resolved"] - at["wrapped_up"]).total_seconds()
        day = at["assigned"].astimezone(SHANGHAI).date().isoformat()

        query = {"from": day, "to": day, "group": "agent"}
        (row,) = await history(sara, **query)
        assert row["agent"] == alice.agent["id"]
        close(row, {"answered": 1, "asa_s": wait_s, "handled": 1, "aht_s": handle_s, "after_work_s": after_s,
                    "fcr": None, "fcr_decided": 0, "fcr_pending": 1})  # its 7 days have not passed
        (total,) = await history(sara, **{"from": day, "to": day})
        close(total, {"offered": 1, "answered": 1, "abandoned": 0, "answered_in_sl": int(wait_s <= 20),
                      "service_level": float(wait_s <= 20), "longest_wait_s": wait_s})
        (line,) = await drill(sara, "answered", day, day, agent=alice.agent["id"])
        assert (line["conversation_id"], line["contact_name"], line["state"]) == (conversation_id, "Ann Lee",
                                                                                   "resolved")
        today = await sara.call("GET", "/api/kpi/today")
        if today["day"] == day:  # not across local midnight
            assert today["total"]["answered"] == 1 and today["total"]["asa_s"] == pytest.approx(wait_s)
            assert [c["channel"] for c in today["channels"]] == ["webchat"]
    finally:
        await alice.close()
        await sara.close()


async def test_a_chat_reopened_through_the_real_core_counts_against_its_resolution(hub: RunningHub, db: Db) -> None:
    """Resolved by alice, then reopened (back into its queue): the day's row and hers count the
    reopen beside the resolution, and the reopen is a new offer to the queue."""
    alice = await AgentClient.online(hub.base_url, "alice")
    sara = await AgentClient(hub.base_url).login("sara")
    try:
        conversation_id = await chat_resolved_by(alice, "Bo Yang", "the bill is still wrong")
        reopened = await alice.call("POST", f"/api/conversations/{conversation_id}/reopen")
        assert reopened["conversation"]["state"] == "queued"
        await eventually(lambda: projected(db), timeout=20)
        at = {e["type"]: e["at"] for e in await hub.context.conversations.events_of(conversation_id)}
        day, later = (at[kind].astimezone(SHANGHAI).date().isoformat() for kind in ("resolved", "reopened"))
        (row, *_) = await history(sara, **{"from": day, "to": later, "group": "agent"})  # the resolution's day
        assert (row["agent"], row["period"]) == (alice.agent["id"], day)
        close(row, {"handled": 1, "reopened": 1, "reopen_rate": 1.0, "fcr_pending": 1, "fcr_decided": 0})
        days = await history(sara, **{"from": day, "to": later})  # one day, or two across local midnight
        assert sum(r["offered"] for r in days) == 2 and sum(r["reopened"] for r in days) == 1
        close(days[0], {"answered": 1, "handled": 1, "reopened": 1, "reopen_rate": 1.0})
    finally:
        await alice.close()
        await sara.close()


@pytest.fixture
async def berlin_hub(mongo_url: str, redis_url: str, redis: Redis, db_name: str) -> AsyncIterator[RunningHub]:
    settings = make_settings(db_name).model_copy(update={"kpi": KpiSettings(time_zone="Europe/Berlin")})
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as running:
        await load_demo(running.context.directory)
        yield running


def abandoned_call(cid: str, at: datetime) -> Script:
    return Script(cid, "voice", "Ada", at).step("created", "new", 0).step("queued", "queued", 0, queue="general") \
        .step("abandoned", "abandoned", 30, wait_s="30", short="no")


async def test_the_autumn_dst_day_has_25_hours_and_its_repeated_hour_twice(berlin_hub: RunningHub, db: Db) -> None:
    utc = UTC
    await write(db, [
        abandoned_call("early", datetime(2026, 10, 24, 22, 30, tzinfo=utc)),  # 00:30 CEST on the 25th
        abandoned_call("first-2am", datetime(2026, 10, 25, 0, 10, tzinfo=utc)),  # 02:10 CEST
        abandoned_call("second-2am", datetime(2026, 10, 25, 1, 10, tzinfo=utc)),  # 02:10 CET, an hour later
        abandoned_call("late", datetime(2026, 10, 25, 22, 50, tzinfo=utc)),  # 23:50 CET on the 25th
        abandoned_call("next", datetime(2026, 10, 25, 23, 10, tzinfo=utc)),  # 00:10 CET on the 26th
    ])
    await eventually(lambda: projected(db), timeout=20)
    sara = await AgentClient(berlin_hub.base_url).login("sara")
    try:
        data = await sara.call("GET", "/api/kpi/history?from=2026-10-25&to=2026-10-26&by=day")
        assert data["time_zone"] == "Europe/Berlin"
        days = data["rows"]
        assert [(r["period"], r["abandoned"]) for r in days] == [("2026-10-25", 4), ("2026-10-26", 1)]
        assert (days[0]["start"], days[0]["end"]) == ("2026-10-24T22:00:00.000Z", "2026-10-25T23:00:00.000Z")
        quarters = await history_in(sara, "2026-10-25", "interval")
        assert [r["period"] for r in quarters] == ["2026-10-25T00:30+02:00", "2026-10-25T02:00+02:00",
                                                   "2026-10-25T02:00+01:00", "2026-10-25T23:45+01:00"]
        assert [r["period"] for r in await history_in(sara, "2026-03-29", "day")] == []
    finally:
        await sara.close()


async def history_in(client: AgentClient, day: str, by: str) -> list[dict[str, Any]]:
    data = await client.call("GET", f"/api/kpi/history?from={day}&to={day}&by={by}")
    return data["rows"]  # type: ignore[no-any-return]


async def test_a_drill_down_as_csv_cannot_run_a_formula(day: RunningHub) -> None:
    """A contact named like a spreadsheet formula (R1, 2026-03-12) stays text in the export."""
    sara = await AgentClient(day.base_url).login("sara")
    try:
        (line,) = await drill(sara, "answered", "2026-03-12", "2026-03-12", channel="webchat")
        url = day.base_url + "/api/kpi/conversations?from=2026-03-12&to=2026-03-12&figure=answered&channel=webchat"
        async with sara.session.get(url + "&format=csv") as resp:
            assert resp.status == 200 and resp.content_type == "text/csv"
            disposition = resp.headers["Content-Disposition"]
            assert disposition == 'attachment; filename="kpi-answered-2026-03-12-2026-03-12.csv"'
            (row,) = list(csv.DictReader(io.StringIO(await resp.text())))
    finally:
        await sara.close()
    assert line["contact_name"] == '=HYPERLINK("http://x";"pay")'
    assert row["contact_name"] == "'" + line["contact_name"]
    assert (row["conversation_id"], row["event"], row["queue"], row["agent"], row["state"]) == (
        "R1", "assigned", "general", "", "resolved")
    assert row["local_time"] == "2026-03-12T07:00:05+08:00"
