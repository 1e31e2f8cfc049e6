"""SLA timers (pure): templates per order type, and what a timer reads at a given instant.

Two timers run on every order: ``first_response`` (until the department acknowledges or replies:
the crew is on site, the customer was contacted) and ``resolution`` (until the department's reply,
回单). A timer's budget is in minutes or hours on a 24/7 clock, or in working days on the
centre's working calendar (``hub.work_orders.calendar``). While the order waits on the customer
both running timers are paused: paused time does not count. Reading a timer needs ``now``
passed in; nothing here reads a clock.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from hub.work_orders.calendar import AlwaysOpen, Calendar, WorkCalendar
from hub.work_orders.kinds import Area, OrderType


class Unit(enum.StrEnum):
    MINUTES = "minutes"  # 24/7
    HOURS = "hours"  # 24/7
    WORKING_DAYS = "working_days"  # on the working calendar


class TimerName(enum.StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


class TimerState(enum.StrEnum):
    RUNNING = "running"
    WARNING = "warning"  # past the warning percentage, not yet due
    BREACHED = "breached"  # past due and still running
    PAUSED = "paused"
    MET = "met"  # stopped in time
    MISSED = "missed"  # stopped after it was due


@dataclass(frozen=True, slots=True)
class Budget:
    amount: float
    unit: Unit

    def calendar(self, working: WorkCalendar) -> Calendar:
        return working if self.unit is Unit.WORKING_DAYS else AlwaysOpen()

    def seconds(self, working: WorkCalendar) -> float:
        per = {Unit.MINUTES: 60.0, Unit.HOURS: 3600.0, Unit.WORKING_DAYS: working.day_seconds}[self.unit]
        return self.amount * per


@dataclass(frozen=True, slots=True)
class Template:
    first_response: Budget
    resolution: Budget

    def budget(self, timer: TimerName) -> Budget:
        return self.first_response if timer is TimerName.FIRST_RESPONSE else self.resolution


@dataclass(frozen=True, slots=True)
class Templates:
    """The templates of every type; a repair's first response depends on its area (crew on site)."""

    by_type: Mapping[OrderType, Template]
    repair_arrival: Mapping[Area, Budget]

    def of(self, kind: OrderType, area: str | None = None) -> Template:
        template = self.by_type[kind]
        if kind is OrderType.REPAIR and area is not None:
            return Template(first_response=self.repair_arrival[Area(area)], resolution=template.resolution)
        return template


WD = Unit.WORKING_DAYS
# The utility's public commitments (State Grid "十项承诺"): a repair crew on site within 45 / 90 /
# 120 minutes (urban / rural / remote) on a 24/7 clock; complaints contacted within 1 working day
# and answered within 7. The others follow the same working-day pattern.
DEFAULT_TEMPLATES = Templates(
    by_type={
        OrderType.REPAIR: Template(Budget(45, Unit.MINUTES), Budget(24, Unit.HOURS)),
        OrderType.COMPLAINT: Template(Budget(1, WD), Budget(7, WD)),
        OrderType.CONSULTATION: Template(Budget(1, WD), Budget(5, WD)),
        OrderType.METER: Template(Budget(1, WD), Budget(5, WD)),
        OrderType.BILLING_DISPUTE: Template(Budget(1, WD), Budget(7, WD)),
    },
    repair_arrival={Area.URBAN: Budget(45, Unit.MINUTES), Area.RURAL: Budget(90, Unit.MINUTES),
                    Area.REMOTE: Budget(120, Unit.MINUTES)},
)


@dataclass(frozen=True, slots=True)
class Pause:
    start: datetime
    end: datetime | None  # None: paused now


@dataclass(frozen=True, slots=True)
class TimerRun:
    """A timer as stored: when it started, when it stopped (if it did), its pauses."""

    started_at: datetime
    stopped_at: datetime | None = None
    pauses: tuple[Pause, ...] = ()


@dataclass(frozen=True, slots=True)
class Reading:
    state: TimerState
    elapsed_s: float
    budget_s: float
    due_at: datetime | None  # None while paused or stopped
    percent: float


def read(budget: Budget, run: TimerRun, now: datetime, working: WorkCalendar, *, warn_at_pct: float) -> Reading:
    """What the timer shows at ``now``: time used on its calendar (pauses left out) against its budget."""
    calendar, total = budget.calendar(working), budget.seconds(working)
    end = run.stopped_at or now
    used = calendar.working_seconds(run.started_at, end) - paused_seconds(calendar, run.pauses, end)
    percent = 100.0 * used / total if total > 0 else 100.0
    if run.stopped_at is not None:
        return Reading(TimerState.MET if used <= total else TimerState.MISSED, used, total, None, percent)
    if any(p.end is None for p in run.pauses):
        return Reading(TimerState.PAUSED, used, total, None, percent)
    if used >= total:
        paused = paused_seconds(calendar, run.pauses, end)
        return Reading(TimerState.BREACHED, used, total, calendar.add(run.started_at, total + paused), percent)
    state = TimerState.WARNING if percent >= warn_at_pct else TimerState.RUNNING
    return Reading(state, used, total, calendar.add(now, total - used), percent)


def paused_seconds(calendar: Calendar, pauses: Sequence[Pause], end: datetime) -> float:
    """Calendar time inside the pauses, up to ``end``."""
    return sum(calendar.working_seconds(p.start, min(p.end or end, end)) for p in pauses if p.start < end)


class Escalation(enum.StrEnum):
    SUPERVISOR = "supervisor"  # the first breach
    MANAGER = "manager"  # the next: up a level


def escalation_for(level: int) -> Escalation:
    """Who a breach goes to: the first breach of an order to a supervisor, any later one up a level."""
    return Escalation.SUPERVISOR if level <= 1 else Escalation.MANAGER
