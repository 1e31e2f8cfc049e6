"""The workload of a day per local half hour, forecast from history, and its staffing (pure).

History comes from the ``kpi_intervals`` projection as UTC quarter hours (``QuarterLoad``: contacts
offered to a queue, contacts resolved by an agent and their summed handle time, assignment to
resolve, after-work included). ``history_of`` groups them into the centre's local half hours of
given past days: ``(weekday, local start)`` → one ``HalfHourSample`` per past day that has data.

The forecast of a half hour of the target day (``forecast_day``) is, over the same weekday's
same half hour in the last ``weeks`` weeks that have data:

- calls: the mean of the offered counts (a day with data but nothing in that half hour counts 0);
- AHT: the handled-weighted mean, total handle time / contacts handled; when none were handled
  there, the same over the whole weekday; with no handled contact at all, ``default_aht_s``.

A past day with no document at all is taken as missing (the hub was not running or not projecting
yet), not as a day without contacts; empty history forecasts no calls and needs no agents. Half
hours are wall-clock slots of the local day: a DST day has 46 or 50 of them. In the repeated hour
of a fall-back day both occurrences share the wall-clock slot: a past day's sample there is their
mean, and the target day's two occurrences get the same forecast.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from hub.staffing import Staffing, agents_needed

HALF_HOUR = timedelta(minutes=30)
HALF_HOUR_S = 1800
DEFAULT_WEEKS = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class QuarterLoad:
    """One UTC quarter hour of the projection, summed over the queues (and channels) asked for."""

    interval: datetime  # start, UTC
    offered: int
    handled: int  # contacts resolved by an agent whose handle time is in ``handle_ms``
    handle_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class HalfHourSample:
    """One past half hour: what was offered, and what was handled in how long."""

    offered: float
    handled: float
    handle_ms: float


class LoadHistory(Protocol):
    """The port to the interval projection the forecast reads (``hub.storage.kpi_intervals``)."""

    async def load_by_quarter(self, start: datetime, end: datetime, *, queue: str | None = None,
                              channel: str | None = None) -> list[QuarterLoad]:
        """Summed queue buckets per UTC quarter hour in ``[start, end)``, oldest first; read only."""
        ...


Slot = tuple[int, time]  # (weekday, Monday 0; local wall-clock start)
History = Mapping[Slot, Sequence[HalfHourSample]]  # oldest day first


@dataclass(frozen=True, slots=True, kw_only=True)
class HalfHourForecast:
    start: datetime  # UTC
    local_start: datetime  # in the centre's zone
    calls: float
    aht_s: float
    samples: int  # past days the figures are the mean of (0: no history)


@dataclass(frozen=True, slots=True, kw_only=True)
class HalfHourPlan:
    forecast: HalfHourForecast
    staffing: Staffing


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants of the local day's first midnight and the next day's."""
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def half_hours(day: date, zone: ZoneInfo) -> list[datetime]:
    """UTC starts of the local day's half hours: 48, or 46/50 on a DST day."""
    start, end = day_bounds(day, zone)
    count = int((end - start) / HALF_HOUR)
    return [start + i * HALF_HOUR for i in range(count)]


def slot_of(start: datetime, zone: ZoneInfo) -> Slot:
    local = start.astimezone(zone)
    return local.weekday(), time(local.hour, local.minute)  # wall clock: a repeated hour's two share it


def history_of(loads: Iterable[QuarterLoad], days: Iterable[date], zone: ZoneInfo) -> dict[Slot, list[HalfHourSample]]:
    """Group UTC quarter hours into the local half hours of ``days`` (oldest first); days without any
    quarter hour in ``loads`` give no sample (missing, not zero)."""
    by_quarter: dict[datetime, list[QuarterLoad]] = defaultdict(list)
    for load in loads:
        by_quarter[load.interval.astimezone(UTC)].append(load)
    history: dict[Slot, list[HalfHourSample]] = defaultdict(list)
    for day in days_with_data(by_quarter, days, zone):
        per_slot: dict[Slot, list[HalfHourSample]] = defaultdict(list)
        for start in half_hours(day, zone):
            inside = [load for at in (start, start + HALF_HOUR / 2) for load in by_quarter.get(at, ())]
            per_slot[slot_of(start, zone)].append(_sum(inside))
        for slot, samples in per_slot.items():
            history[slot].append(_mean(samples))  # two samples only in a fall-back day's repeated hour
    return dict(history)


def days_with_data(quarters: Iterable[datetime], days: Iterable[date], zone: ZoneInfo) -> list[date]:
    """Those of ``days`` (local) in which some quarter hour of ``quarters`` (UTC starts) falls."""
    listed = [at.astimezone(UTC) for at in quarters]
    return [day for day in days if any(first <= at < end for first, end in [day_bounds(day, zone)] for at in listed)]


def _sum(loads: Sequence[QuarterLoad]) -> HalfHourSample:
    return HalfHourSample(offered=sum(x.offered for x in loads), handled=sum(x.handled for x in loads),
                          handle_ms=sum(x.handle_ms for x in loads))


def _mean(samples: Sequence[HalfHourSample]) -> HalfHourSample:
    n = len(samples)
    return HalfHourSample(offered=sum(s.offered for s in samples) / n, handled=sum(s.handled for s in samples) / n,
                          handle_ms=sum(s.handle_ms for s in samples) / n)


def _aht_s(samples: Iterable[HalfHourSample]) -> float | None:
    listed = list(samples)
    handled = sum(s.handled for s in listed)
    return sum(s.handle_ms for s in listed) / handled / 1000 if handled else None


def forecast_day(history: History, day: date, zone: ZoneInfo, *, weeks: int = DEFAULT_WEEKS,
                 default_aht_s: float = 180.0) -> list[HalfHourForecast]:
    """Calls and AHT for each local half hour of ``day`` from the last ``weeks`` samples of each slot."""
    weekday = day.weekday()
    recent = {slot: list(samples)[-weeks:] for slot, samples in history.items() if slot[0] == weekday}
    day_aht = _aht_s(s for samples in recent.values() for s in samples) or default_aht_s
    out: list[HalfHourForecast] = []
    for start in half_hours(day, zone):
        samples = recent.get(slot_of(start, zone), [])
        calls = sum(s.offered for s in samples) / len(samples) if samples else 0.0
        out.append(HalfHourForecast(start=start, local_start=start.astimezone(zone), calls=calls,
                                    aht_s=_aht_s(samples) or day_aht, samples=len(samples)))
    return out


def plan_day(forecasts: Iterable[HalfHourForecast], *, target_sl: float, target_s: float,
             max_occupancy: float) -> list[HalfHourPlan]:
    """Erlang C staffing (``hub.staffing.agents_needed``) for each forecast half hour."""
    return [HalfHourPlan(forecast=f, staffing=agents_needed(f.calls, f.aht_s, HALF_HOUR_S, target_sl, target_s,
                                                            max_occupancy))
            for f in forecasts]


def past_days(day: date, weeks: int) -> list[date]:
    """The same weekday in each of the ``weeks`` weeks before ``day``, oldest first."""
    return [day - timedelta(weeks=k) for k in range(weeks, 0, -1)]
