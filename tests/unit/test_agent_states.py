"""Agent states with reason codes (hub.domain.agent_states): what a change may ask, the time in
each state from the recorded spans, and routing's view of a pause."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.domain.agent_states import (
    DEFAULT_PAUSE_REASONS,
    InvalidState,
    PauseKind,
    StateChange,
    StateSpan,
    check_change,
    totals,
)
from hub.domain.ids import AgentId, AgentStatus, Skill
from routing.policy import AgentSnapshot, WaitingConversation, is_eligible

T0 = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
REASONS = {"training": PauseKind.PRODUCTIVE, "lunch": PauseKind.REST, "after_call_work": PauseKind.PRODUCTIVE}


def test_the_default_reasons_are_productive_or_rest() -> None:
    assert DEFAULT_PAUSE_REASONS["training"] is PauseKind.PRODUCTIVE
    assert DEFAULT_PAUSE_REASONS["after_call_work"] is PauseKind.PRODUCTIVE
    assert DEFAULT_PAUSE_REASONS["lunch"] is PauseKind.REST


@pytest.mark.parametrize(("status", "reason", "expected"), [
    (AgentStatus.AVAILABLE, None, StateChange(status=AgentStatus.AVAILABLE)),
    (AgentStatus.AWAY, None, StateChange(status=AgentStatus.AWAY)),
    (AgentStatus.OFFLINE, None, StateChange(status=AgentStatus.OFFLINE)),
    (AgentStatus.PAUSED, "lunch", StateChange(status=AgentStatus.PAUSED, reason="lunch", kind=PauseKind.REST)),
    (AgentStatus.PAUSED, "training",
     StateChange(status=AgentStatus.PAUSED, reason="training", kind=PauseKind.PRODUCTIVE)),
])
def test_allowed_changes(status: AgentStatus, reason: str | None, expected: StateChange) -> None:
    assert check_change(status, reason, REASONS) == expected


@pytest.mark.parametrize(("status", "reason"), [
    (AgentStatus.PAUSED, None), (AgentStatus.PAUSED, ""), (AgentStatus.PAUSED, "nap"),
    (AgentStatus.AVAILABLE, "lunch"), (AgentStatus.AWAY, "training"),
])
def test_refused_changes(status: AgentStatus, reason: str | None) -> None:
    with pytest.raises(InvalidState):
        check_change(status, reason, REASONS)


def span(agent: str, status: AgentStatus, start_min: int, end_min: int | None, reason: str | None = None) -> StateSpan:
    return StateSpan(agent_id=AgentId(agent), status=status, reason=reason,
                     kind=REASONS[reason] if reason else None, started_at=T0 + timedelta(minutes=start_min),
                     ended_at=None if end_min is None else T0 + timedelta(minutes=end_min))


def test_totals_by_state_reason_and_kind_with_the_open_span_up_to_now() -> None:
    spans = [span("a", AgentStatus.AVAILABLE, 0, 60), span("a", AgentStatus.PAUSED, 60, 90, "lunch"),
             span("a", AgentStatus.PAUSED, 90, 135, "training"), span("a", AgentStatus.AVAILABLE, 135, None),
             span("b", AgentStatus.PAUSED, 0, 10, "after_call_work"), span("b", AgentStatus.PAUSED, 10, 20, "training")]
    result = totals(spans, now=T0 + timedelta(minutes=150))
    assert result.by_state == {
        "a": {"available": 75 * 60, "paused:lunch": 30 * 60, "paused:training": 45 * 60},
        "b": {"paused:after_call_work": 10 * 60, "paused:training": 10 * 60}}
    assert result.by_kind == {"a": {"rest": 30 * 60, "productive": 45 * 60}, "b": {"productive": 20 * 60}}


def test_a_window_counts_only_its_part_of_a_span() -> None:
    lunch = span("a", AgentStatus.PAUSED, 0, 60, "lunch")
    assert lunch.seconds(T0 + timedelta(hours=5), since=T0 + timedelta(minutes=45)) == 15 * 60
    assert lunch.seconds(T0 + timedelta(hours=5), since=T0 + timedelta(hours=2)) == 0
    assert lunch.key == "paused:lunch" and span("a", AgentStatus.AWAY, 0, 1).key == "away"


@pytest.mark.parametrize("status", list(AgentStatus))
def test_routing_offers_work_only_to_available_agents_so_never_during_a_pause(status: AgentStatus) -> None:
    agent = AgentSnapshot(agent_id=AgentId("a"), status=status, skills=frozenset({Skill("general")}),
                          capacity={"webchat": 3}, load={}, last_assigned_ms=0, heartbeat_ms=1_000)
    work = WaitingConversation(conversation_id="c", channel="webchat", skills=frozenset({Skill("general")}),
                               priority=0, queued_ms=0)
    assert is_eligible(agent, work, now_ms=1_000, presence_ttl_ms=30_000) is (status is AgentStatus.AVAILABLE)
