"""routing/policy.py: skills-based ACD selection, as a table and as properties."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.domain.ids import AgentId, AgentStatus, ChannelName, Skill
from routing.policy import AgentSnapshot, WaitingConversation, is_eligible, select_agent

NOW = 1_000_000
TTL = 30_000
REOFFER = 60_000  # an agent who declined is offered the conversation again after this


def agent(
    agent_id: str,
    *,
    status: AgentStatus = AgentStatus.AVAILABLE,
    skills: Sequence[str] = ("billing",),
    capacity: Mapping[str, int] | None = None,
    load: Mapping[str, int] | None = None,
    last_assigned_ms: int = 0,
    heartbeat_ms: int = NOW,
) -> AgentSnapshot:
    return AgentSnapshot(
        agent_id=AgentId(agent_id),
        status=status,
        skills=frozenset(Skill(s) for s in skills),
        capacity=dict(capacity if capacity is not None else {"webchat": 3, "voice": 1}),
        load=dict(load or {}),
        last_assigned_ms=last_assigned_ms,
        heartbeat_ms=heartbeat_ms,
    )


def work(
    channel: ChannelName = "webchat",
    *,
    skills: Sequence[str] = ("billing",),
    declined_by: Mapping[str, int] | None = None,
) -> WaitingConversation:
    return WaitingConversation(
        conversation_id="c_1",
        channel=channel,
        skills=frozenset(Skill(s) for s in skills),
        priority=0,
        queued_ms=NOW - 5_000,
        declined_by={AgentId(a): at for a, at in (declined_by or {}).items()},
    )


def eligible(a: AgentSnapshot, w: WaitingConversation) -> bool:
    return is_eligible(a, w, now_ms=NOW, presence_ttl_ms=TTL, reoffer_after_ms=REOFFER)


def pick(agents: Sequence[AgentSnapshot], conversation: WaitingConversation) -> str | None:
    return select_agent(agents, conversation, now_ms=NOW, presence_ttl_ms=TTL, reoffer_after_ms=REOFFER)


# ---------------------------------------------------------------------------------------------
# Table: (case, agents, conversation, expected agent id or None)
# ---------------------------------------------------------------------------------------------

CASES: list[tuple[str, list[AgentSnapshot], WaitingConversation, str | None]] = [
    ("nobody at all", [], work(), None),
    ("one qualified agent", [agent("a")], work(), "a"),
    # Skills: the conversation's skills must be a subset of the agent's.
    ("missing one needed skill",
     [agent("a", skills=["billing"])], work(skills=["billing", "french"]), None),
    ("superset of skills qualifies",
     [agent("a", skills=["billing", "french", "outages"])], work(skills=["billing", "french"]), "a"),
    ("only the skilled one",
     [agent("a", skills=["outages"]), agent("b", skills=["billing"])], work(skills=["billing"]), "b"),
    ("no skills needed: anyone", [agent("a", skills=[])], work(skills=[]), "a"),
    # Status.
    ("away is not eligible", [agent("a", status=AgentStatus.AWAY)], work(), None),
    ("offline is not eligible", [agent("a", status=AgentStatus.OFFLINE)], work(), None),
    ("the available one of three",
     [agent("a", status=AgentStatus.AWAY), agent("b", status=AgentStatus.OFFLINE), agent("c")], work(), "c"),
    # Presence: a stale heartbeat counts as offline; exactly the TTL old is still present.
    ("heartbeat exactly ttl old", [agent("a", heartbeat_ms=NOW - TTL)], work(), "a"),
    ("heartbeat ttl+1 old", [agent("a", heartbeat_ms=NOW - TTL - 1)], work(), None),
    ("stale one skipped for a fresh one",
     [agent("a", heartbeat_ms=NOW - TTL - 1, last_assigned_ms=0), agent("b", last_assigned_ms=999)],
     work(), "b"),
    # Capacity per channel.
    ("at capacity on the channel", [agent("a", capacity={"webchat": 2}, load={"webchat": 2})], work(), None),
    ("over capacity on the channel",
     [agent("a", capacity={"webchat": 2}, load={"webchat": 5})], work(), None),
    ("one below capacity", [agent("a", capacity={"webchat": 2}, load={"webchat": 1})], work(), "a"),
    ("no capacity for the channel", [agent("a", capacity={"email": 5})], work("webchat"), None),
    ("zero capacity for the channel",
     [agent("a", capacity={"webchat": 0, "email": 5})], work("webchat"), None),
    ("full on another channel does not matter",
     [agent("a", capacity={"webchat": 2, "email": 1}, load={"email": 1})], work("webchat"), "a"),
    # Ranking 1: least loaded as a share of the channel's capacity.
    ("lower share wins over lower absolute load",
     [agent("a", capacity={"webchat": 2}, load={"webchat": 1}),        # 1/2
      agent("b", capacity={"webchat": 10}, load={"webchat": 3})],      # 3/10
     work(), "b"),
    ("share beats idle time",
     [agent("a", load={"webchat": 1}, last_assigned_ms=0),
      agent("b", load={}, last_assigned_ms=900_000)],
     work(), "b"),
    # Ranking 2: then total load over all channels.
    ("equal share: lower total load wins",
     [agent("a", capacity={"webchat": 3, "email": 5}, load={"webchat": 1, "email": 2}, last_assigned_ms=0),
      agent("b", capacity={"webchat": 3, "email": 5}, load={"webchat": 1}, last_assigned_ms=500)],
     work(), "b"),
    ("total load beats idle time",
     [agent("a", capacity={"webchat": 3, "email": 5}, load={"email": 1}, last_assigned_ms=0),
      agent("b", capacity={"webchat": 3, "email": 5}, load={}, last_assigned_ms=999_999)],
     work(), "b"),
    # Ranking 3: then the longest idle (smaller last_assigned_ms).
    ("longest idle wins",
     [agent("a", last_assigned_ms=700), agent("b", last_assigned_ms=200), agent("c", last_assigned_ms=500)],
     work(), "b"),
    # Ranking 4: deterministic tie-break by agent id.
    ("full tie: smallest id",
     [agent("c"), agent("a"), agent("b")], work(), "a"),
    ("full tie, ids compared as strings",
     [agent("agent-10"), agent("agent-9")], work(), "agent-10"),
    # Declines.
    # Declines: excluded for REOFFER ms after declining (or letting the offer time out).
    ("just declined: excluded", [agent("a")], work(declined_by={"a": NOW}), None),
    ("declined REOFFER-1 ago: still excluded",
     [agent("a")], work(declined_by={"a": NOW - REOFFER + 1}), None),
    ("declined exactly REOFFER ago: offered again",
     [agent("a")], work(declined_by={"a": NOW - REOFFER}), "a"),
    ("declined long ago: offered again", [agent("a")], work(declined_by={"a": 0}), "a"),
    ("declined best agent: next best",
     [agent("a", last_assigned_ms=0), agent("b", last_assigned_ms=100)],
     work(declined_by={"a": NOW - 1}), "b"),
    ("everyone declined recently",
     [agent("a"), agent("b")], work(declined_by={"a": NOW - 10, "b": NOW - 20}), None),
    ("someone else's decline does not matter", [agent("a")], work(declined_by={"z": NOW}), "a"),
    # Voice is exclusive.
    ("on a call: no chat for them",
     [agent("a", capacity={"webchat": 3, "voice": 1}, load={"voice": 1})], work("webchat"), None),
    ("on a call even with voice capacity 2: no second call",
     [agent("a", capacity={"voice": 2}, load={"voice": 1})], work("voice"), None),
    ("on a call: the other agent gets the chat",
     [agent("a", load={"voice": 1}, last_assigned_ms=0), agent("b", load={"webchat": 2})], work(), "b"),
    ("a call needs zero total load",
     [agent("a", capacity={"webchat": 3, "voice": 1}, load={"webchat": 1})], work("voice"), None),
    ("a call goes to the free agent",
     [agent("a", load={"webchat": 1}, last_assigned_ms=0), agent("b", last_assigned_ms=900)],
     work("voice"), "b"),
    ("a call needs voice capacity", [agent("a", capacity={"webchat": 3})], work("voice"), None),
    ("free agent with voice capacity takes a call", [agent("a", capacity={"voice": 1})], work("voice"), "a"),
    ("zero-valued load entries are free",
     [agent("a", capacity={"webchat": 3, "voice": 1}, load={"webchat": 0, "voice": 0})], work("voice"), "a"),
]


@pytest.mark.parametrize(("agents", "conversation", "expected"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_select_agent(
    agents: list[AgentSnapshot], conversation: WaitingConversation, expected: str | None
) -> None:
    assert pick(agents, conversation) == expected


@pytest.mark.parametrize(("agents", "conversation", "expected"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_select_agent_ignores_input_order(
    agents: list[AgentSnapshot], conversation: WaitingConversation, expected: str | None
) -> None:
    assert pick(list(reversed(agents)), conversation) == expected


def test_select_agent_accepts_a_one_shot_iterator() -> None:
    agents = [agent("b", last_assigned_ms=5), agent("a", last_assigned_ms=9)]
    chosen = select_agent(iter(agents), work(), now_ms=NOW, presence_ttl_ms=TTL, reoffer_after_ms=REOFFER)
    assert chosen == "b"


# ---------------------------------------------------------------------------------------------
# Properties. The oracles below restate the design in the test, independently of the module:
# eligibility as a predicate, and the rank as an exact (Fraction) key.
# ---------------------------------------------------------------------------------------------

CHANNELS_USED: tuple[ChannelName, ...] = ("webchat", "email", "voice")
SKILLS = ("billing", "outages", "french")


def spec_eligible(a: AgentSnapshot, w: WaitingConversation, now_ms: int, ttl_ms: int) -> bool:
    if a.status != AgentStatus.AVAILABLE:
        return False
    if now_ms - a.heartbeat_ms > ttl_ms:
        return False
    if not set(w.skills).issubset(a.skills):
        return False
    if a.agent_id in w.declined_by and now_ms - w.declined_by[a.agent_id] < REOFFER:
        return False
    if a.load.get(w.channel, 0) >= a.capacity.get(w.channel, 0):
        return False
    if a.load.get("voice", 0) > 0:
        return False
    return not (w.channel == "voice" and sum(a.load.values()) > 0)


def spec_rank(a: AgentSnapshot, channel: str) -> tuple[Fraction, int, int, str]:
    share = Fraction(a.load.get(channel, 0), a.capacity[channel])  # eligible => capacity > 0
    return (share, sum(a.load.values()), a.last_assigned_ms, a.agent_id)


@st.composite
def agents_strategy(draw: st.DrawFn) -> list[AgentSnapshot]:
    ids = draw(st.lists(st.text("abcdef", min_size=1, max_size=3), max_size=8, unique=True))
    result = []
    for agent_id in ids:
        channels = draw(st.lists(st.sampled_from(CHANNELS_USED), unique=True))
        capacity = {c: draw(st.integers(0, 6)) for c in channels}
        load_channels = draw(st.lists(st.sampled_from(CHANNELS_USED), unique=True))
        load = {c: draw(st.integers(0, 6)) for c in load_channels}
        result.append(AgentSnapshot(
            agent_id=AgentId(agent_id),
            status=draw(st.sampled_from(AgentStatus)),
            skills=frozenset(Skill(s) for s in draw(st.sets(st.sampled_from(SKILLS)))),
            capacity=capacity,
            load=load,
            # few distinct values, so that ties on every key are common
            last_assigned_ms=draw(st.integers(0, 3)),
            heartbeat_ms=NOW - draw(st.sampled_from([0, TTL - 1, TTL, TTL + 1, 10 * TTL])),
        ))
    return result


@st.composite
def work_strategy(draw: st.DrawFn) -> WaitingConversation:
    return WaitingConversation(
        conversation_id="c_p",
        channel=draw(st.sampled_from(CHANNELS_USED)),
        skills=frozenset(Skill(s) for s in draw(st.sets(st.sampled_from(SKILLS), max_size=2))),
        priority=0,
        queued_ms=NOW,
        declined_by=draw(st.dictionaries(
            st.text("abcdef", min_size=1, max_size=3).map(AgentId),
            st.sampled_from([0, 1, REOFFER - 1, REOFFER, REOFFER + 1]).map(lambda ago: NOW - ago),
            max_size=3,
        )),
    )


PROPERTY = settings(max_examples=400, database=None, deadline=None)


@PROPERTY
@given(agents=agents_strategy(), w=work_strategy())
def test_property_eligibility_matches_the_design(agents: list[AgentSnapshot], w: WaitingConversation) -> None:
    for a in agents:
        assert eligible(a, w) == spec_eligible(a, w, NOW, TTL), a


@PROPERTY
@given(agents=agents_strategy(), w=work_strategy())
def test_property_selected_agent_is_eligible(agents: list[AgentSnapshot], w: WaitingConversation) -> None:
    chosen = pick(agents, w)
    if chosen is not None:
        (selected,) = [a for a in agents if a.agent_id == chosen]
        assert eligible(selected, w)
        assert spec_eligible(selected, w, NOW, TTL)


@PROPERTY
@given(agents=agents_strategy(), w=work_strategy())
def test_property_no_eligible_agent_ranks_better(agents: list[AgentSnapshot], w: WaitingConversation) -> None:
    chosen = pick(agents, w)
    if chosen is None:
        return
    (selected,) = [a for a in agents if a.agent_id == chosen]
    best = spec_rank(selected, w.channel)
    for other in agents:
        if spec_eligible(other, w, NOW, TTL):
            assert not spec_rank(other, w.channel) < best, (other.agent_id, chosen)


@PROPERTY
@given(agents=agents_strategy(), w=work_strategy())
def test_property_none_iff_nobody_eligible(agents: list[AgentSnapshot], w: WaitingConversation) -> None:
    anyone = any(spec_eligible(a, w, NOW, TTL) for a in agents)
    assert (pick(agents, w) is None) == (not anyone)


@PROPERTY
@given(agents=agents_strategy(), w=work_strategy(), data=st.data())
def test_property_result_is_permutation_invariant(
    agents: list[AgentSnapshot], w: WaitingConversation, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(agents))
    assert pick(shuffled, w) == pick(agents, w)
