"""Agent states with reason codes, pure: which pauses exist (productive or rest), what one status
change asks for, and the time spent in each state from the recorded spans (ADR 0026).

An agent is ``available``, ``away``, ``offline`` or ``paused`` with a reason code from the configured
list (``HUB_AGENT_STATES__PAUSE_REASONS``). Routing offers work only to ``available`` agents, so
every pause, whatever its reason, keeps her out of routing. Each change closes the agent's open
span and opens the next one: ``agent_states`` holds ``(agent, state, reason, kind, from, to)``,
``to`` empty while she is still in it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from hub.domain.ids import AgentId, AgentStatus


class PauseKind(enum.StrEnum):
    """Whether a pause is work away from customers (training, after-call work) or a rest (lunch)."""

    PRODUCTIVE = "productive"
    REST = "rest"


DEFAULT_PAUSE_REASONS: Mapping[str, PauseKind] = {
    "after_call_work": PauseKind.PRODUCTIVE,
    "training": PauseKind.PRODUCTIVE,
    "meeting": PauseKind.PRODUCTIVE,
    "coaching": PauseKind.PRODUCTIVE,
    "lunch": PauseKind.REST,
    "break": PauseKind.REST,
}


class InvalidState(ValueError):
    """A status change that is not allowed: a pause without a known reason, a reason without a pause."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StateChange:
    """One status change as asked and checked: the status, its reason and the reason's kind."""

    status: AgentStatus
    reason: str | None = None
    kind: PauseKind | None = None


def check_change(status: AgentStatus, reason: str | None, reasons: Mapping[str, PauseKind]) -> StateChange:
    """A pause needs one of ``reasons``; any other status takes none. Raises ``InvalidState``."""
    if status is not AgentStatus.PAUSED:
        if reason:
            raise InvalidState(f"only a pause has a reason (not {status.value})")
        return StateChange(status=status)
    if not reason or reason not in reasons:
        raise InvalidState(f"a pause needs a reason: one of {', '.join(sorted(reasons)) or '(none configured)'}")
    return StateChange(status=status, reason=reason, kind=reasons[reason])


@dataclass(frozen=True, slots=True, kw_only=True)
class StateSpan:
    """One stretch of time an agent spent in one state (and reason); ``ended_at`` None: still in it."""

    agent_id: AgentId
    status: AgentStatus
    reason: str | None
    kind: PauseKind | None
    started_at: datetime
    ended_at: datetime | None = None

    def seconds(self, now: datetime, since: datetime | None = None) -> float:
        """Its length up to ``now`` (an open span), counted from ``since`` when it began before."""
        start = max(self.started_at, since) if since else self.started_at
        end = self.ended_at or now
        return max(0.0, (end - start).total_seconds())

    @property
    def key(self) -> str:
        """``paused:lunch``, ``available``: how totals name a state."""
        return f"{self.status.value}:{self.reason}" if self.reason else self.status.value


@dataclass(frozen=True, slots=True, kw_only=True)
class StateTotals:
    """Seconds per agent and state key (``paused:<reason>`` for pauses), and paused time by kind."""

    by_state: Mapping[str, Mapping[str, float]]
    by_kind: Mapping[str, Mapping[str, float]]


def totals(spans: Iterable[StateSpan], *, now: datetime, since: datetime | None = None) -> StateTotals:
    """Sum the spans' time per agent: by state (and reason), and paused time by productive/rest."""
    by_state: dict[str, dict[str, float]] = {}
    by_kind: dict[str, dict[str, float]] = {}
    for span in spans:
        seconds = span.seconds(now, since)
        states = by_state.setdefault(span.agent_id, {})
        states[span.key] = states.get(span.key, 0.0) + seconds
        if span.kind is not None:
            kinds = by_kind.setdefault(span.agent_id, {})
            kinds[span.kind.value] = kinds.get(span.kind.value, 0.0) + seconds
    return StateTotals(by_state=by_state, by_kind=by_kind)
