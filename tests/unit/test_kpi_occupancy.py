"""Occupancy, the split of a transferred conversation's handle time, team rows and a team leader's
scope (hub/kpi_intervals.py, hub/kpi_occupancy.py, hub/kpi_figures.py, hub.domain.visibility)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.domain.agent_states import PauseKind, StateSpan
from hub.domain.ids import AgentId, AgentStatus, Role
from hub.domain.model import Agent, Team
from hub.domain.stream import StoredEvent
from hub.domain.visibility import figures_sight
from hub.kpi_figures import Scope, ServiceLevels, periods, rows
from hub.kpi_intervals import Bucket, replay
from hub.kpi_occupancy import staffed, staffed_buckets, team_of

T0 = datetime(2026, 3, 10, 8, 5, tzinfo=UTC)
Q0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
QUARTER = timedelta(minutes=15)
DAY = periods(date(2026, 3, 10), date(2026, 3, 10), "day", ZoneInfo("UTC"))


def events(cid: str, steps: list[tuple[str, str | None, str, float, str | None, str | None]]) -> list[StoredEvent]:
    """(type, from, to, seconds after T0, queue, agent) per step."""
    return [StoredEvent(seq=i + 1, id=f"{cid}:{i}", conversation_id=cid, version=i, type=kind, from_state=source,
                        to_state=target, at=T0 + timedelta(seconds=after), channel="voice", queue=queue,
                        agent_id=agent)
            for i, (kind, source, target, after, queue, agent) in enumerate(steps)]


# A call alice answers at +10 s and transfers at +130 s to billing, where chen answers at +140 s,
# talks until +1090 s (into the next quarter hour), and resolves at +1150 s after 60 s of wrap-up.
TRANSFERRED = events("c1", [
    ("created", None, "new", 0, None, None), ("queued", "new", "queued", 0, "general", None),
    ("offered", "queued", "offered", 3, "general", "alice"),
    ("assigned", "offered", "assigned", 10, "general", "alice"),
    ("transferred", "assigned", "queued", 130, "billing", None),
    ("offered", "queued", "offered", 135, "billing", "chen"),
    ("assigned", "offered", "assigned", 140, "billing", "chen"),
    ("call_ended", "assigned", "wrap_up", 1090, "billing", "chen"),
    ("resolved", "wrap_up", "resolved", 1150, "billing", "chen"),
])


def test_a_transfer_splits_handle_time_between_the_agents_and_the_queue_counts_it_once() -> None:
    projection = replay(TRANSFERRED)
    alice = projection[Bucket(Q0, "general", "voice", "alice")]
    assert alice["transferred_out"] == 1 and alice["handle_ms"] == 120_000 and alice["busy_ms"] == 120_000
    resolved_at = Q0 + QUARTER  # +1150 s is 08:24:10: the next quarter hour
    chen = projection[Bucket(resolved_at, "billing", "voice", "chen")]
    assert chen["resolved"] == 1 and chen["handle_ms"] == 1_010_000 and chen["after_work_ms"] == 60_000
    queue = projection[Bucket(resolved_at, "billing", "voice")]
    assert queue["resolved"] == 1 and queue["handle_ms"] == 1_130_000  # both parts, one conversation
    # chen's part cut at 08:15: 08:07:20-08:15 in the first quarter hour, 08:15-08:24:10 in the next
    assert projection[Bucket(Q0, "billing", "voice", "chen")]["busy_ms"] == 460_000
    assert chen["busy_ms"] == 550_000

    day = rows(list(projection.items()), DAY, "agent", ServiceLevels())
    by_agent = {r.key: r.figures("agent") for r in day}
    assert by_agent["alice"].handled == 1 and by_agent["alice"].aht_s == 120.0  # her part, counted to her
    assert by_agent["chen"].handled == 1 and by_agent["chen"].aht_s == 1010.0
    (total,) = rows(list(projection.items()), DAY, "none", ServiceLevels())
    assert total.figures("none").handled == 1 and total.figures("none").aht_s == 1130.0


def span(agent: str, status: AgentStatus, start_min: float, end_min: float | None,
         kind: PauseKind | None = None) -> StateSpan:
    return StateSpan(agent_id=AgentId(agent), status=status, reason="x" if kind else None, kind=kind,
                     started_at=Q0 + timedelta(minutes=start_min),
                     ended_at=None if end_min is None else Q0 + timedelta(minutes=end_min))


def test_staffed_time_leaves_out_offline_and_rest_pauses_and_is_cut_into_quarter_hours() -> None:
    assert staffed(span("a", AgentStatus.AVAILABLE, 0, 1)) and staffed(span("a", AgentStatus.AWAY, 0, 1))
    assert staffed(span("a", AgentStatus.PAUSED, 0, 1, PauseKind.PRODUCTIVE))
    assert not staffed(span("a", AgentStatus.PAUSED, 0, 1, PauseKind.REST))
    assert not staffed(span("a", AgentStatus.OFFLINE, 0, 1))
    spans = [span("alice", AgentStatus.AVAILABLE, 0, 20), span("alice", AgentStatus.PAUSED, 20, 25, PauseKind.REST),
             span("alice", AgentStatus.PAUSED, 25, 28, PauseKind.PRODUCTIVE),
             span("alice", AgentStatus.OFFLINE, 28, 40),
             span("chen", AgentStatus.AVAILABLE, -10, None)]  # began before the window, still open
    got = dict(staffed_buckets(spans, Q0, Q0 + 2 * QUARTER))
    assert got == {Bucket(Q0, "", "", "alice"): {"staffed_ms": 15 * 60_000},
                   Bucket(Q0 + QUARTER, "", "", "alice"): {"staffed_ms": 8 * 60_000},
                   Bucket(Q0, "", "", "chen"): {"staffed_ms": 15 * 60_000},
                   Bucket(Q0 + QUARTER, "", "", "chen"): {"staffed_ms": 15 * 60_000}}


def test_occupancy_is_busy_over_staffed_per_agent_team_and_total_never_per_queue() -> None:
    on_duty = [span("alice", AgentStatus.AVAILABLE, 0, 30), span("chen", AgentStatus.AVAILABLE, 0, 30)]
    buckets = [*replay(TRANSFERRED).items(), *staffed_buckets(on_duty, Q0, Q0 + 2 * QUARTER)]
    by_agent = {r.key: r.figures("agent") for r in rows(buckets, DAY, "agent", ServiceLevels())}
    assert by_agent["alice"].occupancy == pytest.approx(120 / 1800)
    assert by_agent["chen"].occupancy == pytest.approx(1010 / 1800) and by_agent["chen"].staffed_s == 1800.0
    north = Team(id="north", name="North", leader_id=AgentId("lena"), member_ids=frozenset({AgentId("alice")}))
    teams = team_of([north])
    by_team = {r.key: r.figures("team") for r in rows(buckets, DAY, "team", ServiceLevels(), Scope(teams=teams))}
    assert set(by_team) == {"north", ""}  # chen is in no team
    assert by_team["north"].occupancy == pytest.approx(120 / 1800) and by_team["north"].handled == 1
    (total,) = rows(buckets, DAY, "none", ServiceLevels())
    assert total.figures("none").occupancy == pytest.approx(1130 / 3600)
    assert total.figures("none").offered == 2  # the queues' figures stay the queues'
    assert all(r.figures("queue").occupancy is None for r in rows(buckets, DAY, "queue", ServiceLevels()))


def test_a_team_leaders_scope_sums_her_members_work_only_in_every_breakdown() -> None:
    buckets = list(replay(TRANSFERRED).items())
    mine = Scope(agents=frozenset({"alice"}))
    (total,) = rows(buckets, DAY, "none", ServiceLevels(), mine)
    figures = total.figures("none")
    assert figures.answered == 1 and figures.handled == 1 and figures.aht_s == 120.0
    assert figures.offered == 0 and figures.service_level is None and figures.longest_wait_s is None
    assert [r.key for r in rows(buckets, DAY, "queue", ServiceLevels(), mine)] == ["general"]  # not chen's billing
    assert [r.key for r in rows(buckets, DAY, "agent", ServiceLevels(), mine)] == ["alice"]
    assert rows(buckets, DAY, "agent", ServiceLevels(), Scope(agents=frozenset())) == []


@pytest.mark.parametrize(("role", "visible", "agents"), [
    (Role.ADMIN, True, None), (Role.SUPERVISOR, True, None), (Role.TEAM_LEADER, True, frozenset({"alice", "bob"})),
    (Role.AGENT, False, None), (Role.TRAINER, False, None)])
def test_who_reads_which_figures(role: Role, visible: bool, agents: frozenset[str] | None) -> None:
    viewer = Agent(id=AgentId("me"), username="me", display_name="Me", role=role, skills=frozenset(), capacity={},
                   password_hash="", leads=frozenset({AgentId("alice"), AgentId("bob")}))
    sight = figures_sight(viewer)
    assert (sight.visible, sight.agents) == (visible, agents)
