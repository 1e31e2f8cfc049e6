"""Calendars the SLA timers run on (pure): a 24/7 clock, or working hours on working days.

A ``WorkCalendar`` holds the centre's zone (``HUB_KPI__TIME_ZONE``), its working hours in local
time, its working weekdays, and two lists of dates that are data, not code: public holidays
(``holidays``) and weekend days worked instead (``extra_workdays``, China's 调休). Working windows
are local wall-clock times turned into instants through the zone, so a day on which clocks change
still opens and closes at its local hours (the day is one hour shorter or longer only if the
window spans the change). Every instant in and out is timezone-aware.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

MAX_DAYS = 3660  # no timer is ten years long; a calendar without working days fails, never loops


class Calendar(Protocol):
    def working_seconds(self, start: datetime, end: datetime) -> float:
        """Time on this calendar between two instants (0 when ``end`` is not after ``start``)."""
        ...

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant at which ``seconds`` of this calendar's time have passed since ``start``."""
        ...


class AlwaysOpen:
    """Every second counts (repair arrival commitments). Arithmetic in UTC: Python adds and subtracts
    datetimes of one zone on the wall clock, which is an hour off across a daylight-saving change."""

    def working_seconds(self, start: datetime, end: datetime) -> float:
        return max(0.0, (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds())

    def add(self, start: datetime, seconds: float) -> datetime:
        return start.astimezone(UTC) + timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkCalendar:
    zone: ZoneInfo
    day_start: time = time(8, 30)
    day_end: time = time(17, 30)
    workdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday is 0
    holidays: frozenset[date] = field(default_factory=frozenset)
    extra_workdays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.day_end <= self.day_start:
            raise ValueError("working hours must end after they start")

    @property
    def day_seconds(self) -> float:
        """One working day's length, as templates in working days count it (on a day without a change)."""
        return float((datetime.combine(date(2001, 1, 1), self.day_end)
                      - datetime.combine(date(2001, 1, 1), self.day_start)).total_seconds())

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        return day.weekday() in self.workdays and day not in self.holidays

    def window(self, day: date) -> tuple[datetime, datetime]:
        """The working window of ``day`` as UTC instants."""
        opens = datetime.combine(day, self.day_start, tzinfo=self.zone).astimezone(UTC)
        closes = datetime.combine(day, self.day_end, tzinfo=self.zone).astimezone(UTC)
        return opens, closes

    def _windows_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        day = start.astimezone(self.zone).date()
        for _ in range(MAX_DAYS):
            if self.is_working_day(day):
                yield self.window(day)
            day += timedelta(days=1)
        raise ValueError("the calendar has no working time within ten years")

    def working_seconds(self, start: datetime, end: datetime) -> float:
        start, end = start.astimezone(UTC), end.astimezone(UTC)  # wall-clock arithmetic otherwise
        total = 0.0
        if end <= start:
            return total
        for opens, closes in self._windows_from(start):
            if opens >= end:
                break
            lo, hi = max(opens, start), min(closes, end)
            if hi > lo:
                total += (hi - lo).total_seconds()
        return total

    def add(self, start: datetime, seconds: float) -> datetime:
        left, start = max(0.0, seconds), start.astimezone(UTC)
        for opens, closes in self._windows_from(start):
            lo = max(opens, start)
            if closes <= lo:
                continue
            span = (closes - lo).total_seconds()
            if left <= span:
                return lo + timedelta(seconds=left)
            left -= span
        raise AssertionError("unreachable: _windows_from raises first")  # pragma: no cover
