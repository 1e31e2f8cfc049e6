"""Occupancy, a transfer's handle time split between its agents, team rows and the team leader's
scope, through the running hub's /api/kpi/* (docs/kpis.md). The demo's Team North is Lena over
Alice and Bob; Chen is in no team. Events and state spans are written into the real tables with
the demo's agent ids; every figure below is worked out by hand.

Day 2026-03-10 (Asia/Shanghai), from 09:00 local (01:00 UTC):
  Alice: available 09:00-09:30, lunch (a rest pause) 09:30-09:40, training (productive) 09:40-09:50,
         offline from 09:50: staffed 40 min = 2400 s.
  Chen:  available 09:00-10:00, then offline: staffed 3600 s.
  C1 (voice, general): queued 09:01:00, Alice answers 09:01:10, transfers it to billing at 09:05:10
     (her part 240 s); Chen answers 09:05:30 and resolves 09:15:30 (his part 600 s). The queue
     counts one conversation of 840 s.
  C2 (webchat, general): queued 09:20:00, Bob answers 09:20:05 and resolves 09:30:05 (600 s); Bob
     has no state span: no staffed time, occupancy null.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.bootstrap import RunningHub
from hub.domain.agent_states import PauseKind, StateSpan
from hub.domain.ids import AgentId, AgentStatus
from hub.storage.agent_states import MongoAgentStateLog
from hub.storage.database import Db
from tests.clients import AgentClient
from tests.conftest import eventually
from tests.integration.test_kpi_history import Script, close, projected, write

SHANGHAI = ZoneInfo("Asia/Shanghai")
NINE = datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI)
DAY = "from=2026-03-10&to=2026-03-10"


@pytest.fixture
async def ids(hub: RunningHub, db: Db) -> dict[str, str]:
    ids: dict[str, str] = {a.username: a.id for a in await hub.context.directory.agents()}
    alice, bob, chen = ids["alice"], ids["bob"], ids["chen"]
    transferred = Script("C1", "voice", "Customer", NINE + timedelta(minutes=1)).step("created", "new", 0) \
        .step("queued", "queued", 0, queue="general").step("offered", "offered", 3, agent=alice) \
        .step("assigned", "assigned", 10).step("transferred", "queued", 250, queue="billing", agent=None) \
        .step("offered", "offered", 260, agent=chen).step("assigned", "assigned", 270) \
        .step("resolved", "resolved", 870)
    chat = Script("C2", "webchat", "Customer", NINE + timedelta(minutes=20)).step("created", "new", 0) \
        .step("queued", "queued", 0, queue="general").step("offered", "offered", 2, agent=bob) \
        .step("assigned", "assigned", 5).step("resolved", "resolved", 605)
    await write(db, [transferred, chat])
    log = MongoAgentStateLog(db)
    for agent, status, reason, kind, minute in (
            (alice, AgentStatus.AVAILABLE, None, None, 0), (chen, AgentStatus.AVAILABLE, None, None, 0),
            (alice, AgentStatus.PAUSED, "lunch", PauseKind.REST, 30),
            (alice, AgentStatus.PAUSED, "training", PauseKind.PRODUCTIVE, 40),
            (alice, AgentStatus.OFFLINE, None, None, 50), (chen, AgentStatus.OFFLINE, None, None, 60)):
        await log.record(StateSpan(agent_id=AgentId(agent), status=status, reason=reason, kind=kind,
                                   started_at=NINE + timedelta(minutes=minute)))
    await eventually(lambda: projected(db), timeout=30)
    return ids


async def rows(client: AgentClient, query: str) -> list[dict[str, object]]:
    data = await client.call("GET", f"/api/kpi/history?{DAY}&{query}")
    return data["rows"]  # type: ignore[no-any-return]


async def test_occupancy_the_split_of_a_transfer_and_team_rows(hub: RunningHub, ids: dict[str, str]) -> None:
    sara = await AgentClient(hub.base_url).login("sara")
    try:
        by_agent = {r["agent"]: r for r in await rows(sara, "group=agent")}
        close(by_agent[ids["alice"]], {"answered": 1, "handled": 1, "aht_s": 240.0, "transferred_out": 1,
                                       "busy_s": 240.0, "staffed_s": 2400.0, "occupancy": 0.1})
        close(by_agent[ids["chen"]], {"answered": 1, "handled": 1, "aht_s": 600.0, "busy_s": 600.0,
                                      "staffed_s": 3600.0, "occupancy": 600 / 3600})
        close(by_agent[ids["bob"]], {"handled": 1, "aht_s": 600.0, "staffed_s": None, "occupancy": None})
        (total,) = await rows(sara, "")
        close(total, {"offered": 3, "answered": 3, "handled": 2, "aht_s": (840 + 600) / 2,
                      "busy_s": 1440.0, "staffed_s": 6000.0, "occupancy": 1440 / 6000})
        by_queue = {r["queue"]: r for r in await rows(sara, "group=queue")}
        close(by_queue["billing"], {"handled": 1, "aht_s": 840.0, "occupancy": None})  # one conversation
        by_team = {r["team"]: r for r in await rows(sara, "group=team")}
        assert set(by_team) == {"north", ""}
        close(by_team["north"], {"answered": 2, "handled": 2, "aht_s": 420.0, "busy_s": 840.0, "staffed_s": 2400.0,
                                 "occupancy": 0.35, "offered": 0, "service_level": None})
        close(by_team[""], {"answered": 1, "handled": 1, "occupancy": 600 / 3600})  # Chen, in no team
        async with sara.session.get(f"{hub.base_url}/api/kpi/history?{DAY}&group=team&format=csv") as resp:
            table = list(csv.DictReader(io.StringIO(await resp.text())))
        assert {r["team"]: r["occupancy %"] for r in table} == {"": "16.7", "north": "35.0"}
    finally:
        await sara.close()


async def test_a_team_leader_reads_her_members_work_only(hub: RunningHub, ids: dict[str, str]) -> None:
    lena = await AgentClient(hub.base_url).login("lena")
    try:
        data = await lena.call("GET", f"/api/kpi/history?{DAY}")
        assert data["scope"] == {"kind": "team", "agents": sorted([ids["alice"], ids["bob"]])}
        close(data["rows"][0], {"answered": 2, "handled": 2, "aht_s": 420.0, "occupancy": 0.35, "offered": 0,
                                "abandoned": 0, "service_level": None, "longest_wait_s": None})
        assert {r["agent"] for r in await rows(lena, "group=agent")} == {ids["alice"], ids["bob"]}
        assert [r["team"] for r in await rows(lena, "group=team")] == ["north"]
        by_queue = {r["queue"]: r for r in await rows(lena, "group=queue")}
        assert set(by_queue) == {"general"}  # Chen's part in billing is not her team's
        close(by_queue["general"], {"answered": 2, "handled": 2, "service_level": None})
        assert {r["channel"] for r in await rows(lena, "group=channel")} == {"voice", "webchat"}

        answered = await lena.call("GET", f"/api/kpi/conversations?{DAY}&figure=answered")
        assert sorted(c["conversation_id"] for c in answered["conversations"]) == ["C1", "C2"]
        assert {c["agent"] for c in answered["conversations"]} == {ids["alice"], ids["bob"]}
        handled = await lena.call("GET", f"/api/kpi/conversations?{DAY}&figure=handled")
        assert [c["conversation_id"] for c in handled["conversations"]] == ["C2"]  # C1 was resolved by Chen
        for figure in ("offered", "abandoned", "with_bot"):  # a queue's figures, not a team's
            refused = await lena.call("GET", f"/api/kpi/conversations?{DAY}&figure={figure}", expect=403)
            assert refused["error"]["code"] == "forbidden"
        await lena.call("GET", f"/api/kpi/conversations?{DAY}&figure=answered&agent={ids['chen']}", expect=403)
        today = await lena.call("GET", "/api/kpi/today")
        assert today["scope"]["kind"] == "team" and today["total"]["service_level"] is None
    finally:
        await lena.close()


@pytest.mark.parametrize(("username", "status"), [("admin", 200), ("sara", 200), ("lena", 200), ("alice", 403),
                                                  ("tom", 403)])
async def test_who_reads_the_figures(hub: RunningHub, username: str, status: int) -> None:
    client = await AgentClient(hub.base_url).login(username)
    try:
        for path in (f"/api/kpi/history?{DAY}&group=team", "/api/kpi/today",
                     f"/api/kpi/conversations?{DAY}&figure=answered"):
            await client.call("GET", path, expect=status)
        for page in ("/console/wallboard", "/console/reports"):
            async with client.session.get(f"{hub.base_url}{page}", allow_redirects=False) as resp:
                assert resp.status == status, page
    finally:
        await client.close()
