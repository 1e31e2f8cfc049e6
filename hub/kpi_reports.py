"""Supervisors' KPI history, today's figures and drill-downs (docs/kpis.md), over ``KpiRecords``.

The figures come from the stored ``kpi_intervals`` projection (``hub.kpi_figures``); a drill-down
lists the events whose ``hub.kpi_intervals.contributions`` add to the figure's counter in the
matching buckets, so the list behind a number is exactly what was counted in it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hub.config import KpiSettings
from hub.domain.stream import StoredEvent
from hub.kpi_fcr import Resolution, fcr_buckets
from hub.kpi_figures import (
    By,
    Group,
    Period,
    Row,
    Scope,
    ServiceLevelRule,
    ServiceLevels,
    local_midnight,
    periods,
    rows,
)
from hub.kpi_intervals import Bucket, Counts, contributions
from hub.kpi_occupancy import staffed_buckets, team_of
from hub.kpi_ports import ConversationLine, KpiRecords

MAX_DAYS = 366
DRILL_LIMIT = 1000
FCR_LIMIT = 100_000  # resolutions read for first-contact resolution per request; more: not computed
# A figure that can be drilled into: the counter that counts it, and the event types that can add to it.
DRILLS: Mapping[str, tuple[str, frozenset[str]]] = {
    "offered": ("offered", frozenset({"queued", "handed_over", "transferred"})),
    "answered": ("answered", frozenset({"assigned"})),
    "abandoned": ("abandoned", frozenset({"abandoned", "resolved"})),
    "abandoned_short": ("abandoned_short", frozenset({"abandoned"})),
    "transferred": ("transferred_out", frozenset({"transferred"})),
    "transferred_out": ("transferred_out", frozenset({"transferred"})),
    "transferred_in": ("transferred_in", frozenset({"transferred"})),
    "handled": ("resolved", frozenset({"resolved"})),
    "with_bot": ("with_bot", frozenset({"bot_started"})),
    "resolved_by_bot": ("resolved_by_bot", frozenset({"resolved"})),
    "outbound": ("outbound", frozenset({"called_out"})),
    "surveys_answered": ("surveys_answered", frozenset({"survey_answered"})),  # each with its score
    "surveys_satisfied": ("survey_satisfied", frozenset({"survey_answered"})),
}
# Counted only in the queues' buckets: not any agent's work, so not a team leader's (403).
QUEUE_ONLY_DRILLS = frozenset({"offered", "abandoned", "abandoned_short", "transferred_in", "with_bot",
                               "resolved_by_bot"})


@dataclass(frozen=True, slots=True, kw_only=True)
class DrillFilter:
    queue: str | None = None
    channel: str | None = None
    agent: str | None = None  # set: that agent's buckets; unset: the queues' buckets
    agents: frozenset[str] | None = None  # set: any of these agents' buckets (a team leader's scope)

    def matches(self, bucket: Bucket) -> bool:
        if self.agents is not None and (bucket.agent not in self.agents or self.agent not in (None, bucket.agent)):
            return False
        return ((self.queue is None or bucket.queue == self.queue)
                and (self.channel is None or bucket.channel == self.channel)
                and (self.agents is not None or bucket.agent == (self.agent or "")))


@dataclass(frozen=True, slots=True, kw_only=True)
class DrillLine:
    """One counted event and its conversation."""

    event: StoredEvent
    bucket: Bucket
    conversation: ConversationLine | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Drill:
    figure: str
    lines: list[DrillLine]
    truncated: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Today:
    day: date
    start: datetime
    now: datetime
    total: list[Row]
    queues: list[Row]
    channels: list[Row]


class KpiReports:
    """Read-only; every method is one or a few reads of the port. Times are passed in."""

    def __init__(self, records: KpiRecords, *, zone: ZoneInfo, levels: ServiceLevels,
                 fcr_window: timedelta = timedelta(days=7)) -> None:
        self._records = records
        self.zone = zone
        self.levels = levels
        self.fcr_window = fcr_window

    @classmethod
    def configured(cls, records: KpiRecords, settings: KpiSettings) -> KpiReports:
        """With the centre's zone and service-level goals (``HUB_KPI__*``)."""
        queues = {q: ServiceLevelRule(seconds=g.seconds, target=g.target)
                  for q, g in settings.queue_service_levels.items()}
        default = ServiceLevelRule(seconds=settings.service_level_s, target=settings.service_level_target)
        return cls(records, zone=ZoneInfo(settings.time_zone), levels=ServiceLevels(default=default, queues=queues),
                   fcr_window=timedelta(days=settings.fcr_days))

    def rule(self, queue: str | None = None) -> ServiceLevelRule:
        return self.levels.of(queue) if queue else self.levels.default

    def spans(self, first: date, last: date, by: By) -> list[Period]:
        if last < first or (last - first).days >= MAX_DAYS:
            raise ValueError(f"from must be on or before to, at most {MAX_DAYS} days")
        return periods(first, last, by, self.zone)

    def bounds(self, first: date, last: date) -> tuple[datetime, datetime]:
        return local_midnight(first, self.zone), local_midnight(last + timedelta(days=1), self.zone)

    async def history(self, first: date, last: date, by: By, group: Group, now: datetime,
                      agents: frozenset[str] | None = None) -> list[Row]:
        """Rows of figures; first-contact resolution is decided as of ``now``. ``agents``: these
        agents' work only (a team leader's scope)."""
        spans = self.spans(first, last, by)
        start, end = self.bounds(first, last)
        buckets = await self._records.intervals(start, end)
        staffed = await self.staffed(start, min(end, now))
        scope = Scope(agents=agents, teams=team_of(await self._records.teams()) if group == "team" else None)
        return rows([*buckets, *staffed, *await self.fcr(start, end, now)], spans, group, self.levels, scope)

    async def staffed(self, start: datetime, end: datetime) -> list[tuple[Bucket, Counts]]:
        """Occupancy's staffed time per quarter hour and agent, up to ``end`` (now, for today)."""
        return staffed_buckets(await self._records.state_spans(start, end), start, end) if start < end else []

    async def fcr(self, start: datetime, end: datetime, now: datetime) -> list[tuple[Bucket, Counts]]:
        """First-contact resolution counters of the conversations agents resolved in ``[start, end)``."""
        events = await self._records.events(start, end, {"resolved"}, channel=None, limit=FCR_LIMIT)
        if len(events) >= FCR_LIMIT:
            return []  # too many to read at once: left out (docs/kpis.md)
        handled = [e for e in events if e.from_state in ("assigned", "wrap_up")]
        lines = await self._records.lines({e.conversation_id for e in handled})
        resolutions = [Resolution(conversation_id=e.conversation_id, contact_id=lines[e.conversation_id].contact_id,
                                  queue=e.queue or "", channel=e.channel, agent=e.agent_id or "", at=e.at)
                       for e in handled if e.conversation_id in lines]
        opened = await self._records.opened_by({r.contact_id for r in resolutions}, start, end + self.fcr_window)
        reopens = await self._records.events(start, end + self.fcr_window, {"reopened"}, channel=None,
                                             limit=FCR_LIMIT)
        if len(reopens) >= FCR_LIMIT:
            return []
        reopened: dict[str, list[datetime]] = defaultdict(list)
        for event in reopens:
            reopened[event.conversation_id].append(event.at)
        return fcr_buckets(resolutions, opened, self.fcr_window, now, reopened)

    async def today(self, now: datetime, agents: frozenset[str] | None = None) -> Today:
        """The local day of ``now`` so far: in total, per queue and per channel (``agents``: as in ``history``)."""
        day = now.astimezone(self.zone).date()
        start = local_midnight(day, self.zone)
        buckets = [*await self._records.intervals(start, now), *await self.staffed(start, now)]
        span = [Period(start, local_midnight(day + timedelta(days=1), self.zone), day.isoformat())]
        scope = Scope(agents=agents)
        return Today(day=day, start=start, now=now, total=rows(buckets, span, "none", self.levels, scope),
                     queues=[r for r in rows(buckets, span, "queue", self.levels, scope) if r.key],  # not the bot's
                     channels=rows(buckets, span, "channel", self.levels, scope))

    async def drill(self, first: date, last: date, figure: str, where: DrillFilter,
                    limit: int = DRILL_LIMIT) -> Drill:
        """The conversations behind ``figure`` in the local days ``first`` to ``last``.

        Raises ``KeyError`` for a figure that cannot be drilled into (``DRILLS``), ``PermissionError``
        for a queue figure in a team leader's scope (``where.agents``: no agent's work).
        """
        counter, types = DRILLS[figure]
        if where.agents is not None and figure in QUEUE_ONLY_DRILLS:
            raise PermissionError(f"{figure} is a queue's figure, not a team's")
        self.spans(first, last, "day")
        start, end = self.bounds(first, last)
        events = await self._records.events(start, end, types, channel=where.channel, limit=limit)
        histories = await self._records.histories({e.conversation_id for e in events})
        counted: list[tuple[StoredEvent, Bucket]] = []
        for event in events:
            prior = [e for e in histories.get(event.conversation_id, ()) if e.version < event.version]
            bucket = next((b for b, counts in contributions(event, prior)
                           if counts.get(counter) and where.matches(b)), None)
            if bucket is not None:
                counted.append((event, bucket))
        lines = await self._records.lines({e.conversation_id for e, _ in counted})
        return Drill(figure=figure, truncated=len(events) >= limit,
                     lines=[DrillLine(event=e, bucket=b, conversation=lines.get(e.conversation_id))
                            for e, b in counted])
