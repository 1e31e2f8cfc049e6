"""Missed offers, pure: an agent who lets ``limit`` offers in a row time out is set away by the hub
(paused with the reason ``missed_offers``) instead of being left "available" for work she does not
take (issue 16 item 3; ADR 0041).

The streak counts ``offer_timed_out`` events (a chat offer nobody accepted, a phone that rang out);
an accepted offer (``assigned``) or a decline (an answer, even a no) ends it. Every other event
leaves it alone. Events carry their ``seq``: one seen already (a batch read again) changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hub.domain.stream import StoredEvent

TIMED_OUT = "offer_timed_out"
ANSWERED = frozenset({"assigned", "declined"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Streak:
    """An agent's offers timed out in a row, and the ``seq`` of the last event that counted."""

    missed: int = 0
    last_seq: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class MissedOffers:
    """The streaks of every agent seen; ``away``: the agents this step sets away (at most one)."""

    streaks: Mapping[str, Streak] = field(default_factory=dict)
    away: tuple[str, ...] = ()


def offer_agent(event: StoredEvent) -> str | None:
    """Whose offer the event answers: the agent who missed it, accepted it or declined it."""
    if event.type == TIMED_OUT or event.type == "declined":
        return event.detail.get("agent_id") or (event.actor if event.actor not in ("", "system") else None)
    if event.type == "assigned":
        return event.agent_id
    return None


def step(state: MissedOffers, event: StoredEvent, *, limit: int) -> MissedOffers:
    """The streaks after ``event``; ``away`` names the agent whose streak reached ``limit`` (the
    streak then starts again, so she is set away once per ``limit`` misses). ``limit`` 0: never."""
    agent = offer_agent(event)
    if agent is None or limit <= 0:
        return MissedOffers(streaks=state.streaks)
    before = state.streaks.get(agent, Streak())
    if event.seq <= before.last_seq:  # read again after a failed batch
        return MissedOffers(streaks=state.streaks)
    missed = before.missed + 1 if event.type == TIMED_OUT else 0
    away = missed >= limit
    streaks = {**state.streaks, agent: Streak(missed=0 if away else missed, last_seq=event.seq)}
    return MissedOffers(streaks=streaks, away=(agent,) if away else ())
