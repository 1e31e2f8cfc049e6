"""Supervisors' figures from summed ``kpi_intervals`` counters, and local days and weeks (pure).

The definitions are docs/kpis.md's: one formula for every channel. Ratios are ``None`` when their
denominator is 0 (no call, no chat), never a division error; durations are seconds.

Buckets are UTC quarter hours; the centre's local days and weeks are unions of them (every zone's
offset is a multiple of 15 minutes), so a local day is 96 buckets, 92 on the spring DST day and
100 on the autumn one. ``periods`` finds those edges with ``zoneinfo``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from hub.kpi_intervals import INTERVAL_MINUTES, WAIT_EDGES_S, Bucket, Counts, add

By = Literal["interval", "day", "week"]
Group = Literal["none", "queue", "channel", "agent", "team"]
IN_SERVICE_LEVEL = "answered_in_sl"  # derived per bucket with its queue's threshold, then summed
QUARTER = timedelta(minutes=INTERVAL_MINUTES)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceLevelRule:
    """Answered within ``seconds`` (a projection wait edge) for ``target`` of the ended waits."""

    seconds: int = 20
    target: float = 0.8

    def __post_init__(self) -> None:
        if self.seconds not in WAIT_EDGES_S:
            raise ValueError(f"service level threshold {self.seconds}s is not a wait edge {WAIT_EDGES_S}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceLevels:
    """The default rule and the queues' own."""

    default: ServiceLevelRule = ServiceLevelRule()
    queues: Mapping[str, ServiceLevelRule] | None = None

    def of(self, queue: str) -> ServiceLevelRule:
        return (self.queues or {}).get(queue, self.default)


@dataclass(frozen=True, slots=True, kw_only=True)
class Figures:
    """One row's figures (docs/kpis.md). ``None``: not defined for this row (no denominator)."""

    offered: int
    answered: int
    abandoned: int
    abandoned_short: int
    answered_in_sl: int
    service_level: float | None
    answer_rate: float | None
    abandon_rate: float | None
    asa_s: float | None
    longest_wait_s: float | None
    handled: int
    aht_s: float | None
    after_work_s: float | None
    occupancy: float | None  # busy / staffed: agents' rows and their sums only
    busy_s: float | None
    staffed_s: float | None
    transferred_out: int
    transfer_rate: float | None
    with_bot: int
    resolved_by_bot: int
    bot_containment: float | None
    outbound: int
    fcr: float | None  # first-contact resolution: first_contact / decided
    fcr_decided: int
    fcr_pending: int  # handled, but the repeat window has not passed yet
    reopened: int  # resolutions of the row that staff reopened since
    reopen_rate: float | None  # reopened / resolved by an agent
    surveys_answered: int
    surveys_satisfied: int  # scored 4 or 5
    csat: float | None  # satisfaction: surveys_satisfied / surveys_answered
    csat_mean: float | None  # the mean score, 1-5

    def to_json(self) -> dict[str, int | float | None]:
        return {name: getattr(self, name) for name in FIGURE_NAMES}


FIGURE_NAMES = tuple(Figures.__dataclass_fields__)
RATIOS = frozenset({"service_level", "answer_rate", "abandon_rate", "transfer_rate", "bot_containment", "fcr",
                    "reopen_rate", "occupancy", "csat"})
SECONDS = frozenset({"asa_s", "longest_wait_s", "aht_s", "after_work_s", "busy_s", "staffed_s"})


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


def per(total_ms: int, count: int) -> float | None:
    return total_ms / count / 1000 if count > 0 else None


def mean(total: int, count: int) -> float | None:
    return total / count if count > 0 else None


def with_service_level(bucket: Bucket, counts: Mapping[str, int], levels: ServiceLevels) -> Counts:
    """The bucket's counters plus ``answered_in_sl``, counted with its own queue's threshold."""
    rule = levels.of(bucket.queue)
    return {**counts, IN_SERVICE_LEVEL: counts.get(f"answered_le_{rule.seconds}s", 0)}


def figures(c: Mapping[str, int], *, per_agent: bool = False) -> Figures:
    """The figures of summed counters (``answered_in_sl`` from ``with_service_level``).

    ``per_agent``: the counters are an agent's; the queue's figures (offered, abandoned, service
    level, answer and abandon rates, longest wait) are left out (0 or ``None``).
    """
    answered, abandoned, short = c.get("answered", 0), c.get("abandoned", 0), c.get("abandoned_short", 0)
    ended_waits = 0 if per_agent else answered + abandoned - short  # Genesys: short abandons left out
    # An agent's handled parts: resolved by her, or transferred on after she answered (docs/kpis.md).
    handled = c.get("resolved", 0) + (c.get("transferred_out", 0) if per_agent else 0)
    staffed = c.get("staffed_ms")
    return Figures(
        offered=c.get("offered", 0), answered=answered, abandoned=abandoned, abandoned_short=short,
        answered_in_sl=c.get(IN_SERVICE_LEVEL, 0),
        service_level=ratio(c.get(IN_SERVICE_LEVEL, 0), ended_waits),
        answer_rate=ratio(answered, ended_waits), abandon_rate=ratio(abandoned - short, ended_waits),
        asa_s=per(c.get("answered_wait_ms", 0), answered),
        longest_wait_s=None if per_agent or "max_wait_ms" not in c else c["max_wait_ms"] / 1000,
        handled=handled, aht_s=per(c.get("handle_ms", 0), handled),
        after_work_s=per(c.get("after_work_ms", 0), handled),
        occupancy=ratio(c.get("busy_ms", 0), staffed or 0), busy_s=per(c["busy_ms"], 1) if "busy_ms" in c else None,
        staffed_s=per(staffed, 1) if staffed is not None else None,
        transferred_out=c.get("transferred_out", 0), transfer_rate=ratio(c.get("transferred_out", 0), answered),
        with_bot=c.get("with_bot", 0), resolved_by_bot=c.get("resolved_by_bot", 0),
        bot_containment=ratio(c.get("resolved_by_bot", 0), c.get("with_bot", 0)), outbound=c.get("outbound", 0),
        fcr=ratio(c.get("fcr_first", 0), c.get("fcr_decided", 0)), fcr_decided=c.get("fcr_decided", 0),
        fcr_pending=c.get("fcr_pending", 0),
        reopened=c.get("reopened", 0), reopen_rate=ratio(c.get("reopened", 0), c.get("resolved", 0)),
        surveys_answered=c.get("surveys_answered", 0), surveys_satisfied=c.get("survey_satisfied", 0),
        csat=ratio(c.get("survey_satisfied", 0), c.get("surveys_answered", 0)),
        csat_mean=mean(c.get("survey_score_sum", 0), c.get("surveys_answered", 0)),
    )


# -- local time --------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A half-open UTC range ``[start, end)`` and its local label."""

    start: datetime
    end: datetime
    label: str


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant a local day starts (a zone whose clocks skip midnight: the first instant after)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def periods(first: date, last: date, by: By, zone: ZoneInfo) -> list[Period]:
    """The periods covering the local days ``first`` to ``last`` (inclusive), in order.

    ``day``: local midnight to local midnight (23, 24 or 25 hours); ``week``: ISO weeks (from
    Monday), cut to the range; ``interval``: each UTC quarter hour, labelled in local time.
    """
    if last < first:
        return []
    if by == "interval":
        start, end = local_midnight(first, zone), local_midnight(last + timedelta(days=1), zone)
        steps = int((end - start) / QUARTER)
        return [Period(s, s + QUARTER, s.astimezone(zone).isoformat(timespec="minutes"))
                for s in (start + i * QUARTER for i in range(steps))]
    out: list[Period] = []
    day = first
    while day <= last:
        if by == "day":
            stop = day
            label = day.isoformat()
        else:
            stop = min(last, day + timedelta(days=6 - day.weekday()))
            year, week, _ = day.isocalendar()
            label = f"{year}-W{week:02d}"
        out.append(Period(local_midnight(day, zone), local_midnight(stop + timedelta(days=1), zone), label))
        day = stop + timedelta(days=1)
    return out


AGENT_GROUPS = frozenset({"agent", "team"})  # rows of agents' work: queue figures left out
OCCUPANCY = frozenset({"busy_ms", "staffed_ms"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    """Whose work a table sums: every bucket (``agents`` None), or these agents' buckets only (a
    team leader's view: docs/kpis.md "Team leaders"). ``teams``: agent -> team, for group team."""

    agents: frozenset[str] | None = None
    teams: Mapping[str, str] | None = None


EVERYONE = Scope()


def group_key(bucket: Bucket, group: Group, scope: Scope = EVERYONE) -> str:
    if group == "queue":
        return bucket.queue
    if group == "channel":
        return bucket.channel
    if group == "agent":
        return bucket.agent
    if group == "team":
        return (scope.teams or {}).get(bucket.agent, "")
    return ""


def wanted(bucket: Bucket, counts: Mapping[str, int], group: Group, scope: Scope = EVERYONE) -> Mapping[str, int]:
    """What of a bucket a row sums. Agent and team rows sum the agents' buckets, the other rows the
    queues' (never both: no double count), plus the agents' busy and staffed time in the total.
    A scoped table sums its agents' buckets only. Staffed time has no queue or channel."""
    if scope.agents is not None:
        if bucket.agent not in scope.agents:
            return {}
        agents_row = True
    else:
        agents_row = group in AGENT_GROUPS
    if agents_row and group in ("queue", "channel"):
        return {k: v for k, v in counts.items() if k != "staffed_ms"}
    if bool(bucket.agent) == agents_row:
        return counts
    if group == "none" and bucket.agent:
        return {k: v for k, v in counts.items() if k in OCCUPANCY}
    return {}


@dataclass(frozen=True, slots=True)
class Row:
    period: Period
    key: str  # the queue, channel, agent or team ("" for group none)
    counts: Counts
    of_agents: bool = False  # summed from agents' buckets (a scoped table): queue figures left out

    def figures(self, group: Group) -> Figures:
        return figures(self.counts, per_agent=self.of_agents or group in AGENT_GROUPS)


def rows(buckets: Iterable[tuple[Bucket, Mapping[str, int]]], spans: list[Period], group: Group,
         levels: ServiceLevels, scope: Scope = EVERYONE) -> list[Row]:
    """Sum the buckets into ``spans`` x group; rows with no counter at all are left out."""
    starts = sorted(spans)
    totals: dict[tuple[Period, str], Counts] = defaultdict(dict)
    for bucket, counts in buckets:
        kept = wanted(bucket, counts, group, scope)
        if not kept:
            continue
        span = find(starts, bucket.interval)
        if span is not None:
            add(totals[(span, group_key(bucket, group, scope))], with_service_level(bucket, kept, levels))
    return [Row(span, key, counts, scope.agents is not None) for (span, key), counts in sorted(totals.items())
            if counts]


def find(spans: list[Period], at: datetime) -> Period | None:
    """The period holding ``at`` (spans sorted, not overlapping): a binary search."""
    low, high = 0, len(spans)
    while low < high:
        middle = (low + high) // 2
        if spans[middle].end <= at:
            low = middle + 1
        else:
            high = middle
    return spans[low] if low < len(spans) and spans[low].start <= at else None
