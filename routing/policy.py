"""Pure agent selection: which agent gets a waiting conversation. No I/O, time passed in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from hub.domain.ids import AgentId, AgentStatus, ChannelName, Skill

VOICE: ChannelName = "voice"


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentSnapshot:
    """One agent as routing sees it at one instant (read from Redis)."""

    agent_id: AgentId
    status: AgentStatus
    skills: frozenset[Skill]
    capacity: Mapping[str, int]
    load: Mapping[str, int]
    last_assigned_ms: int  # when the agent last got work; smaller = idle for longer
    heartbeat_ms: int

    def load_on(self, channel: str) -> int:
        return self.load.get(channel, 0)

    def total_load(self) -> int:
        return sum(self.load.values())


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitingConversation:
    """A queued conversation as routing sees it."""

    conversation_id: str
    channel: ChannelName
    skills: frozenset[Skill]
    priority: int
    queued_ms: int
    declined_by: Mapping[AgentId, int] = field(default_factory=dict)  # agent -> when (ms) it declined


def is_eligible(agent: AgentSnapshot, work: WaitingConversation, *, now_ms: int, presence_ttl_ms: int,
                reoffer_after_ms: int = 0) -> bool:
    """Available, seen recently, skilled, under capacity on the channel, voice exclusive, and not
    one who declined (or let time out) this conversation less than ``reoffer_after_ms`` ago."""
    if agent.status is not AgentStatus.AVAILABLE or now_ms - agent.heartbeat_ms > presence_ttl_ms:
        return False
    if not work.skills <= agent.skills:
        return False
    declined_at = work.declined_by.get(agent.agent_id)
    if declined_at is not None and now_ms - declined_at < reoffer_after_ms:
        return False
    if agent.load_on(work.channel) >= agent.capacity.get(work.channel, 0):
        return False
    # A call blocks everything else and needs a free agent.
    if agent.load_on(VOICE) > 0:
        return False
    return not (work.channel == VOICE and agent.total_load() > 0)


def rank(agent: AgentSnapshot, channel: str) -> tuple[float, int, int, str]:
    """Least loaded on the channel (as a share of capacity), then overall, then longest idle."""
    capacity = max(agent.capacity.get(channel, 0), 1)
    return (agent.load_on(channel) / capacity, agent.total_load(), agent.last_assigned_ms, agent.agent_id)


def select_agent(
    agents: Iterable[AgentSnapshot],
    work: WaitingConversation,
    *,
    now_ms: int,
    presence_ttl_ms: int,
    reoffer_after_ms: int = 0,
) -> AgentId | None:
    """Skills-based ACD selection; ``None`` when no agent may take the conversation now."""
    eligible = [a for a in agents if is_eligible(a, work, now_ms=now_ms, presence_ttl_ms=presence_ttl_ms,
                                                 reoffer_after_ms=reoffer_after_ms)]
    if not eligible:
        return None
    return min(eligible, key=lambda a: rank(a, work.channel)).agent_id


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedOffer:
    """One decision of a round: offer ``work`` (waiting in ``queue``) to ``agent_id``."""

    work: WaitingConversation
    queue: str
    agent_id: AgentId


def plan_round(
    agents: Iterable[AgentSnapshot],
    work: Iterable[tuple[WaitingConversation, str]],
    *,
    now_ms: int,
    presence_ttl_ms: int,
    reoffer_after_ms: int = 0,
) -> list[PlannedOffer]:
    """Every offer one snapshot allows, decided in one pass (the claim re-checks each in Redis).

    Fairness: the waiting work is taken by priority, then longest waiting first (enqueue time,
    then id); each piece goes to ``select_agent``'s choice, whose load and ``last_assigned`` are
    then counted in the snapshot, so the next piece sees her one busier and no longer the longest
    idle, and nobody is planned over capacity.
    """
    snapshot = {a.agent_id: a for a in agents}
    ordered = sorted(work, key=lambda item: (-item[0].priority, item[0].queued_ms, item[0].conversation_id))
    planned: list[PlannedOffer] = []
    for waiting, queue in ordered:
        chosen = select_agent(snapshot.values(), waiting, now_ms=now_ms, presence_ttl_ms=presence_ttl_ms,
                              reoffer_after_ms=reoffer_after_ms)
        if chosen is None:
            continue
        planned.append(PlannedOffer(work=waiting, queue=queue, agent_id=chosen))
        snapshot[chosen] = with_one_more(snapshot[chosen], waiting.channel, now_ms)
    return planned


def with_one_more(agent: AgentSnapshot, channel: str, now_ms: int) -> AgentSnapshot:
    """The agent as she is once one more piece of work on ``channel`` was offered to her at ``now_ms``."""
    load = dict(agent.load)
    load[channel] = load.get(channel, 0) + 1
    return replace(agent, load=load, last_assigned_ms=now_ms)

