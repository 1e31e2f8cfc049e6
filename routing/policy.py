"""Pure agent selection: which agent gets a waiting conversation. No I/O, time passed in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

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
