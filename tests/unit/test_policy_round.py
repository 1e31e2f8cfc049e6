"""routing/policy.py ``plan_round``: every offer of one snapshot, fair and within capacity."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.domain.ids import AgentId, AgentStatus, Skill
from routing.policy import WaitingConversation, plan_round, select_agent
from tests.unit.test_policy import NOW, REOFFER, TTL, agent

Work = tuple[WaitingConversation, str]


def waiting(cid: str, queued_ms: int, *, priority: int = 0, skills: tuple[str, ...] = ("billing",),
            channel: str = "webchat") -> Work:
    return WaitingConversation(conversation_id=cid, channel=channel,  # type: ignore[arg-type]
                               skills=frozenset(Skill(s) for s in skills), priority=priority,
                               queued_ms=queued_ms), "billing"


def plan(agents: list, work: list[Work]) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(p.work.conversation_id, p.agent_id) for p in
            plan_round(agents, work, now_ms=NOW, presence_ttl_ms=TTL, reoffer_after_ms=REOFFER)]


def test_the_longest_waiting_goes_first_to_the_longest_idle_agent() -> None:
    agents = [agent("a_recent", last_assigned_ms=NOW - 1_000, capacity={"webchat": 1}),
              agent("a_idle", last_assigned_ms=NOW - 60_000, capacity={"webchat": 1})]
    work = [waiting("c_new", NOW - 1_000), waiting("c_old", NOW - 90_000), waiting("c_mid", NOW - 30_000)]
    assert plan(agents, work) == [("c_old", "a_idle"), ("c_mid", "a_recent")]  # c_new waits: no seat left


def test_priority_outranks_waiting_time() -> None:
    agents = [agent("a_1", capacity={"webchat": 1})]
    work = [waiting("c_old", NOW - 90_000), waiting("c_urgent", NOW - 1_000, priority=2)]
    assert plan(agents, work) == [("c_urgent", "a_1")]


def test_work_is_spread_least_loaded_first_and_the_one_just_served_goes_last() -> None:
    agents = [agent("a_1", capacity={"webchat": 2}, last_assigned_ms=1),
              agent("a_2", capacity={"webchat": 2}, last_assigned_ms=2)]
    work = [waiting(f"c_{i}", NOW - 10_000 + i) for i in range(5)]
    assert plan(agents, work) == [("c_0", "a_1"), ("c_1", "a_2"), ("c_2", "a_1"), ("c_3", "a_2")]


def test_a_call_takes_a_free_agent_and_blocks_her_for_the_rest_of_the_round() -> None:
    agents = [agent("a_1", capacity={"webchat": 3, "voice": 1})]
    work = [waiting("c_call", NOW - 50_000, channel="voice"), waiting("c_chat", NOW - 10_000)]
    assert plan(agents, work) == [("c_call", "a_1")]


def test_unfit_work_is_skipped_not_a_stop() -> None:
    agents = [agent("a_1", skills=("billing",), capacity={"webchat": 2})]
    work = [waiting("c_outage", NOW - 50_000, skills=("outages",)), waiting("c_bill", NOW - 10_000)]
    assert plan(agents, work) == [("c_bill", "a_1")]


def test_nobody_available_plans_nothing() -> None:
    agents = [agent("a_1", status=AgentStatus.AWAY), agent("a_2", heartbeat_ms=NOW - TTL - 1)]
    assert plan(agents, [waiting("c_1", NOW - 1)]) == []


@settings(max_examples=200, deadline=None)
@given(
    caps=st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=8),
    loads=st.lists(st.integers(min_value=0, max_value=4), min_size=8, max_size=8),
    ages=st.lists(st.integers(min_value=0, max_value=100_000), min_size=0, max_size=40),
)
def test_a_plan_never_overfills_offers_once_and_matches_select_agent_in_order(
        caps: list[int], loads: list[int], ages: list[int]) -> None:
    agents = [agent(f"a_{i}", capacity={"webchat": c}, load={"webchat": min(loads[i], c)},
                    last_assigned_ms=i * 7 % 5) for i, c in enumerate(caps)]
    work = [waiting(f"c_{i:03d}", NOW - age) for i, age in enumerate(ages)]
    planned = plan_round(agents, work, now_ms=NOW, presence_ttl_ms=TTL, reoffer_after_ms=REOFFER)
    ids = [p.work.conversation_id for p in planned]
    assert len(ids) == len(set(ids))
    per_agent = Counter(p.agent_id for p in planned)
    for a in agents:
        assert a.load_on("webchat") + per_agent[a.agent_id] <= a.capacity["webchat"]
    free = sum(a.capacity["webchat"] - a.load_on("webchat") for a in agents)
    assert len(planned) == min(free, len(work))  # one skill, one channel: every free seat is used
    # The first offer is exactly what select_agent picks for the longest-waiting conversation.
    if planned:
        oldest = min(work, key=lambda w: (w[0].queued_ms, w[0].conversation_id))[0]
        assert planned[0].work == oldest
        assert planned[0].agent_id == select_agent(agents, oldest, now_ms=NOW, presence_ttl_ms=TTL,
                                                   reoffer_after_ms=REOFFER)
    # Longest waiting first: the offered conversations waited at least as long as any left waiting.
    left = [w for w, _ in work if w.conversation_id not in set(ids)]
    if planned and left:
        assert max(p.work.queued_ms for p in planned) <= min(w.queued_ms for w in left)


def test_declined_agent_is_skipped_within_the_round() -> None:
    agents = [agent("a_1", capacity={"webchat": 2}, last_assigned_ms=0),
              agent("a_2", capacity={"webchat": 2}, last_assigned_ms=5)]
    declined = WaitingConversation(conversation_id="c_1", channel="webchat", skills=frozenset({Skill("billing")}),
                                   priority=0, queued_ms=NOW - 9_000, declined_by={AgentId("a_1"): NOW - 1_000})
    assert plan(agents, [(declined, "billing")]) == [("c_1", "a_2")]
