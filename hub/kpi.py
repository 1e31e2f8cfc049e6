"""KPIs computed from the event table alone (pure: events in, numbers out).

Every channel's conversations produce the same events, so the same formulas serve all of them.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class BotKpis:
    conversations: int
    with_bot: int
    handed_over: int
    containment_rate: float | None  # with the bot and never handed over / with the bot
    handover_rate: float | None
    handovers_by_reason: Mapping[str, int] = field(default_factory=dict)
    handovers_by_intent: Mapping[str, int] = field(default_factory=dict)
    wait_after_handover_s: Mapping[str, float] = field(default_factory=dict)  # p50, p90, mean, max
    waiting_now: int = 0  # handed over, no agent yet

    def to_json(self) -> dict[str, Any]:
        return {
            "conversations": self.conversations, "with_bot": self.with_bot, "handed_over": self.handed_over,
            "containment_rate": self.containment_rate, "handover_rate": self.handover_rate,
            "handovers_by_reason": dict(self.handovers_by_reason),
            "handovers_by_intent": dict(self.handovers_by_intent),
            "wait_after_handover_s": dict(self.wait_after_handover_s), "waiting_now": self.waiting_now,
        }


def bot_kpis(events: Iterable[Mapping[str, Any]]) -> BotKpis:
    """``events``: stored event documents (``type``, ``conversation_id``, ``at``, ``detail``)."""
    created: set[str] = set()
    with_bot: set[str] = set()
    handed_at: dict[str, datetime] = {}
    assigned_at: dict[str, datetime] = {}
    reasons: Counter[str] = Counter()
    intents: Counter[str] = Counter()
    for event in sorted(events, key=lambda e: (e["at"], e.get("version", 0))):
        cid, kind = event["conversation_id"], event["type"]
        if kind == "created":
            created.add(cid)
        elif kind == "bot_started":
            with_bot.add(cid)
        elif kind == "handed_over" and cid not in handed_at:
            handed_at[cid] = event["at"]
            detail = event.get("detail") or {}
            reasons[detail.get("reason") or "unknown"] += 1
            intents[detail.get("intent") or "(none)"] += 1
        elif kind == "assigned" and cid in handed_at and cid not in assigned_at:
            assigned_at[cid] = event["at"]
    waits = sorted((assigned_at[c] - handed_at[c]).total_seconds() for c in assigned_at)
    bot_total = len(with_bot)
    handed = len(handed_at.keys() & with_bot)
    return BotKpis(
        conversations=len(created), with_bot=bot_total, handed_over=handed,
        containment_rate=(bot_total - handed) / bot_total if bot_total else None,
        handover_rate=handed / bot_total if bot_total else None,
        handovers_by_reason=dict(reasons.most_common()), handovers_by_intent=dict(intents.most_common()),
        wait_after_handover_s=_summary(waits), waiting_now=len(handed_at) - len(assigned_at),
    )


def _summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    return {"n": float(len(values)), "p50": statistics.median(values),
            "p90": values[min(len(values) - 1, int(0.9 * len(values)))],
            "mean": statistics.fmean(values), "max": values[-1]}
