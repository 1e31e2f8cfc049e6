"""Business hours of a queue (pure): is it open at an instant, and when does it next open.

A queue's hours are weekly windows in the centre's zone (``HUB_KPI__TIME_ZONE``), one per weekday
at most (``mon 08:00-20:00``; ``24:00`` closes at midnight), plus the centre's calendar shared with
the work orders' SLA timers (``HUB_WORK_ORDERS__HOLIDAYS``: closed all day; ``EXTRA_WORKDAYS``: a
weekend day worked, on the hours of the first weekday that has hours). A queue without windows is
always open. Windows are local wall-clock times turned into instants through the zone, so a day on
which clocks change still opens and closes at its local hours. Every instant in and out is aware.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
SEARCH_DAYS = 400  # a year of holidays and a bit: a calendar without any open day answers "never"
_WINDOW = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    """One weekday's opening, in minutes after local midnight (``closes`` may be 1440)."""

    day: int  # Monday is 0
    opens: int
    closes: int

    def __post_init__(self) -> None:
        if not (0 <= self.day < 7 and 0 <= self.opens < self.closes <= MINUTES_PER_DAY):
            raise ValueError("a window opens before it closes, within one day")


@dataclass(frozen=True, slots=True, kw_only=True)
class OpeningHours:
    """What ``is_open`` and ``next_opening`` decide on: a queue's windows and the centre's calendar."""

    zone: ZoneInfo
    windows: tuple[Window, ...] = ()
    holidays: frozenset[date] = field(default_factory=frozenset)
    extra_workdays: frozenset[date] = field(default_factory=frozenset)

    @property
    def always_open(self) -> bool:
        return not self.windows

    def window_of(self, day: date) -> Window | None:
        """The window that applies on a local date, or None when closed all day."""
        if day in self.holidays:
            return None
        weekday = day.weekday()
        if day in self.extra_workdays and not any(w.day == weekday for w in self.windows):
            weekday = min(w.day for w in self.windows)
        return next((w for w in self.windows if w.day == weekday), None)

    def instants(self, day: date) -> tuple[datetime, datetime] | None:
        """The window of a local date as UTC instants."""
        window = self.window_of(day)
        if window is None:
            return None
        return _instant(day, window.opens, self.zone), _instant(day, window.closes, self.zone)


def _instant(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    if minutes == MINUTES_PER_DAY:
        day, minutes = day + timedelta(days=1), 0
    local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone)
    return local.astimezone(UTC)


def is_open(hours: OpeningHours, at: datetime) -> bool:
    if hours.always_open:
        return True
    at = at.astimezone(UTC)
    day = at.astimezone(hours.zone).date()
    for candidate in (day - timedelta(days=1), day):  # 24:00 of yesterday is today's midnight
        span = hours.instants(candidate)
        if span is not None and span[0] <= at < span[1]:
            return True
    return False


def next_opening(hours: OpeningHours, at: datetime) -> datetime | None:
    """The first opening instant at or after ``at`` (``at`` itself when open); None: never opens."""
    if is_open(hours, at):
        return at.astimezone(UTC)
    at = at.astimezone(UTC)
    day = at.astimezone(hours.zone).date()
    for offset in range(SEARCH_DAYS):
        span = hours.instants(day + timedelta(days=offset))
        if span is not None and span[0] >= at:
            return span[0]
    return None


def parse_weekly(spec: Mapping[str, str]) -> tuple[Window, ...]:
    """``{"mon": "08:00-20:00", ...}`` -> windows; raises ValueError naming what is wrong."""
    windows = []
    for name, text in spec.items():
        if name not in DAYS:
            raise ValueError(f"unknown weekday {name!r}: use {', '.join(DAYS)}")
        match = _WINDOW.match(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"{name}: hours are HH:MM-HH:MM")
        oh, om, ch, cm = (int(g) for g in match.groups())
        opens, closes = oh * 60 + om, ch * 60 + cm
        if opens >= MINUTES_PER_DAY or closes > MINUTES_PER_DAY or opens >= closes:
            raise ValueError(f"{name}: the window must open before it closes, 00:00 to 24:00")
        windows.append(Window(day=DAYS.index(name), opens=opens, closes=closes))
    return tuple(sorted(windows, key=lambda w: w.day))


def weekly_doc(windows: tuple[Window, ...]) -> dict[str, str]:
    """The stored and shown form of windows (``parse_weekly``'s inverse)."""
    return {DAYS[w.day]: f"{w.opens // 60:02d}:{w.opens % 60:02d}-{w.closes // 60:02d}:{w.closes % 60:02d}"
            for w in windows}
