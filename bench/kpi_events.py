"""Realistic event documents for the KPI bench (pure: no I/O; ``bench/kpi_projection.py`` inserts them).

A day of a hotline as the conversation core writes it: conversations across web chat, SMS, e-mail,
Telegram and calls, in four queues, answered, declined then answered, transferred, abandoned
(calls: some short), handled by the bot alone, with and without wrap-up; 08:00-20:00 in the
centre's zone. Each conversation's events are what ``hub.domain.states`` allows, versioned from 0;
``seq`` follows the order of ``at`` over all conversations, as the numbering would.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

CHANNELS = ("webchat", "sms", "email", "telegram", "voice")
QUEUES = ("general", "billing", "outages", "complaints")


@dataclass(frozen=True, slots=True)
class Plan:
    """How many of each story were generated (the bench's own check of the projection)."""

    conversations: int
    events: int
    offered: int
    answered: int
    abandoned: int
    resolved_by_bot: int


class _Story:
    def __init__(self, cid: str, channel: str, start: datetime) -> None:
        self.cid, self.channel, self.at, self.state = cid, channel, start, None
        self.queue: str | None = None
        self.agent: str | None = None
        self.events: list[dict[str, Any]] = []

    def step(self, kind: str, target: str, after_s: float, *, queue: str | None = None, agent: Any = "keep",
             **detail: str) -> _Story:
        self.at += timedelta(seconds=after_s)
        self.queue = queue or self.queue
        self.agent = self.agent if agent == "keep" else agent
        self.events.append({"_id": f"{self.cid}:{len(self.events)}", "conversation_id": self.cid,
                            "version": len(self.events), "type": kind, "from_state": self.state, "to_state": target,
                            "at": self.at, "channel": self.channel, "queue": self.queue, "agent_id": self.agent,
                            "actor": "bench", "detail": detail, "changes": {}})
        self.state = target
        return self


def _answered(s: _Story, r: random.Random, agents: list[str], *, wrap: bool) -> None:
    agent = r.choice(agents)
    s.step("offered", "offered", r.uniform(1, 40), agent=agent).step("assigned", "assigned", r.uniform(1, 10))
    if wrap:
        s.step("wrapped_up", "wrap_up", r.uniform(60, 600), agent=agent).step("resolved", "resolved",
                                                                              r.uniform(5, 120))
    else:
        s.step("resolved", "resolved", r.uniform(60, 600))


def story(cid: str, r: random.Random, start: datetime, agents: list[str]) -> tuple[_Story, str]:
    """One conversation and what it was: answered, transferred, declined, abandoned, bot."""
    channel = r.choice(CHANNELS)
    s = _Story(cid, channel, start).step("created", "new", 0)
    roll = r.random()
    if roll < 0.12 and channel != "voice":  # the bot alone
        s.step("bot_started", "bot", 0).step("resolved", "resolved", r.uniform(20, 200))
        return s, "bot"
    s.step("queued", "queued", 0, queue=r.choice(QUEUES))
    if roll < 0.24:  # abandoned while waiting
        wait = r.uniform(1, 180)
        if channel == "voice":
            s.step("abandoned", "abandoned", wait, wait_s=f"{wait:.3f}", short="yes" if wait < 5 else "no")
        else:
            s.step("resolved", "resolved", wait)
        return s, "abandoned"
    if roll < 0.34:  # declined first
        first = r.choice(agents)
        s.step("offered", "offered", r.uniform(1, 20), agent=first)
        s.step("declined", "queued", r.uniform(1, 10), agent=None, agent_id=first)
    if roll < 0.46:  # transferred once
        s.step("offered", "offered", r.uniform(1, 30), agent=r.choice(agents)).step("assigned", "assigned",
                                                                                     r.uniform(1, 8))
        s.step("transferred", "queued", r.uniform(30, 300), queue=r.choice(QUEUES), agent=None)
        _answered(s, r, agents, wrap=r.random() < 0.5)
        return s, "transferred"
    _answered(s, r, agents, wrap=r.random() < 0.6)
    return s, "answered"


def generate(conversations: int, first: date, days: int, zone: ZoneInfo, *, agents: int = 100,
             seed: int = 14) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Plan]:
    """The events (numbered by ``at``), the conversations' documents and the plan."""
    r = random.Random(seed)
    staff = [f"bench{i:03d}" for i in range(agents)]
    events: list[dict[str, Any]] = []
    documents: list[dict[str, Any]] = []
    counts = {"offered": 0, "answered": 0, "abandoned": 0, "bot": 0}
    for n in range(conversations):
        day = first + timedelta(days=n * days // conversations)
        opening = datetime.combine(day, time(8), tzinfo=zone)
        start = opening + timedelta(seconds=r.uniform(0, 12 * 3600))
        s, kind = story(f"k{n:07d}", r, start, staff)
        events += s.events
        counts["offered"] += sum(1 for e in s.events if e["to_state"] == "queued" and e["from_state"] != "offered")
        counts["answered"] += sum(1 for e in s.events if e["to_state"] == "assigned")
        counts["abandoned"] += kind == "abandoned"
        counts["bot"] += kind == "bot"
        documents.append({"_id": s.cid, "contact_id": f"contact{r.randrange(conversations // 2 + 1)}",
                          "contact_name": "Bench", "channel": s.channel, "state": s.state,
                          "version": len(s.events) - 1, "queue": s.queue, "priority": 0, "skills": [],
                          "agent_id": s.agent, "created_at": start, "updated_at": s.at, "language": "zh",
                          "preview": "", "unread": 0})
    events.sort(key=lambda e: (e["at"], e["_id"]))
    for seq, event in enumerate(events, start=1):
        event["seq"] = seq
    plan = Plan(conversations=conversations, events=len(events), offered=counts["offered"],
                answered=counts["answered"], abandoned=counts["abandoned"], resolved_by_bot=counts["bot"])
    return events, documents, plan


def chunks(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
