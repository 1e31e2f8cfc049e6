"""Occupancy's denominator: agents' staffed time per UTC quarter hour, from their state spans (pure).

Occupancy = busy time / staffed time (docs/kpis.md). Busy time is in the ``kpi_intervals``
projection (``busy_ms``, from the event table); staffed time is read from the agents' state spans
(``agent_states``, ADR 0026), which are not events, and cut here into the same quarter-hour x
agent buckets (``queue`` and ``channel`` empty: staffed time belongs to no queue). Staffed means
logged in and not on a rest pause: available, away, or paused for a productive reason.

Which team an agent's buckets count to is her team now (``team_of``): teams are directory data
without a history (ADR 0030).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from hub.domain.agent_states import PauseKind, StateSpan
from hub.domain.ids import AgentStatus
from hub.domain.model import Team
from hub.kpi_intervals import QUARTER, Bucket, Counts, interval_of


def staffed(span: StateSpan) -> bool:
    """Logged in and not resting: every state but offline and a rest pause."""
    if span.status is AgentStatus.OFFLINE:
        return False
    return not (span.status is AgentStatus.PAUSED and span.kind is PauseKind.REST)


def staffed_buckets(spans: Iterable[StateSpan], start: datetime, end: datetime) -> list[tuple[Bucket, Counts]]:
    """``staffed_ms`` per quarter hour and agent inside ``[start, end)``; an open span runs to ``end``."""
    totals: dict[Bucket, int] = {}
    for span in spans:
        if not staffed(span):
            continue
        since, until = max(span.started_at, start), min(span.ended_at or end, end)
        quarter = interval_of(since)
        while quarter < until:
            stop = quarter + QUARTER
            spent = round((min(until, stop) - max(since, quarter)).total_seconds() * 1000)
            if spent > 0:
                bucket = Bucket(quarter, "", "", span.agent_id)
                totals[bucket] = totals.get(bucket, 0) + spent
            quarter = stop
    return [(bucket, {"staffed_ms": ms}) for bucket, ms in sorted(totals.items())]


def team_of(teams: Iterable[Team]) -> Mapping[str, str]:
    """Each member's team id (a member is in at most one team)."""
    return {member: team.id for team in teams for member in team.member_ids}
