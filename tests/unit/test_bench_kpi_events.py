"""The KPI bench's generated events (bench/kpi_events.py) are what the conversation core could have
written, and the projection counts them as the bench's plan says (the bench checks the same)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from bench.kpi_events import generate
from hub.domain.states import ConversationState, check_transition
from hub.domain.stream import event_from_doc
from hub.kpi_intervals import replay


def test_generated_events_follow_the_state_machine_and_the_projection_counts_the_plan() -> None:
    events, documents, plan = generate(400, date(2026, 3, 2), 2, ZoneInfo("Asia/Shanghai"), agents=10, seed=3)
    assert plan.events == len(events) and plan.conversations == len(documents) == 400
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert all(a["at"] <= b["at"] for a, b in itertools.pairwise(events))
    by_conversation: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        by_conversation[event["conversation_id"]].append(event)
    for history in by_conversation.values():
        history.sort(key=lambda e: e["version"])
        assert [e["version"] for e in history] == list(range(len(history)))
        for event in history[1:]:
            check_transition(ConversationState(event["from_state"]), ConversationState(event["to_state"]))
    projection = replay(event_from_doc(e) for e in events)
    totals = {name: sum(c.get(name, 0) for b, c in projection.items() if not b.agent)
              for name in ("offered", "answered", "abandoned", "resolved_by_bot")}
    assert totals == {"offered": plan.offered, "answered": plan.answered, "abandoned": plan.abandoned,
                      "resolved_by_bot": plan.resolved_by_bot}
    assert min(totals.values()) > 0
