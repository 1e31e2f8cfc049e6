"""The half-hour forecast (hub/forecast.py): grouping UTC quarter hours into local half hours, the
means over past weeks, empty history, DST days, and staffing each half hour."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.forecast import (
    HalfHourSample,
    QuarterLoad,
    days_with_data,
    forecast_day,
    half_hours,
    history_of,
    past_days,
    plan_day,
)
from hub.staffing import agents_needed

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = date(2026, 12, 7)


def quarter(at: datetime, offered: int, handled: int = 0, handle_s: float = 0) -> QuarterLoad:
    return QuarterLoad(interval=at.astimezone(UTC), offered=offered, handled=handled,
                       handle_ms=round(handle_s * 1000))


def local(day: date, hour: int, minute: int = 0, zone: ZoneInfo = SHANGHAI) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def test_a_local_day_has_48_half_hours_and_a_dst_day_46_or_50() -> None:
    assert len(half_hours(MONDAY, SHANGHAI)) == 48
    assert half_hours(MONDAY, SHANGHAI)[0] == datetime(2026, 12, 6, 16, 0, tzinfo=UTC)
    assert len(half_hours(date(2026, 3, 29), BERLIN)) == 46
    assert len(half_hours(date(2026, 10, 25), BERLIN)) == 50


def test_past_days_are_the_same_weekday_oldest_first() -> None:
    assert past_days(MONDAY, 3) == [date(2026, 11, 16), date(2026, 11, 23), date(2026, 11, 30)]


def script() -> list[QuarterLoad]:
    """Three past Mondays (11-16, 11-23, 11-30) with 09:00-09:30 and 10:00-10:30 local traffic."""
    first, second, third = past_days(MONDAY, 3)
    return [
        quarter(local(first, 9, 0), 10, 8, 8 * 200), quarter(local(first, 9, 15), 10, 10, 10 * 150),
        quarter(local(second, 9, 0), 30, 12, 12 * 180),
        quarter(local(third, 10, 15), 4, 4, 4 * 120),  # nothing at 09:00 that day: it counts 0 there
        quarter(local(date(2026, 12, 1), 9, 0), 500, 500, 500 * 60),  # a Tuesday: not a Monday's history
    ]


def test_history_groups_quarter_hours_into_local_half_hours_of_the_given_days() -> None:
    days = past_days(MONDAY, 3)
    history = history_of(script(), days, SHANGHAI)
    assert history[(0, time(9, 0))] == [HalfHourSample(offered=20, handled=18, handle_ms=3_100_000),
                                        HalfHourSample(offered=30, handled=12, handle_ms=2_160_000),
                                        HalfHourSample(offered=0, handled=0, handle_ms=0)]
    assert history[(0, time(10, 0))][2] == HalfHourSample(offered=4, handled=4, handle_ms=480_000)
    assert all(len(samples) == 3 for samples in history.values())
    assert len(history) == 48
    assert not any(weekday != 0 for weekday, _ in history)


def test_the_forecast_is_the_mean_of_the_weeks_and_the_handled_weighted_aht() -> None:
    days = past_days(MONDAY, 4)  # the oldest (11-09) has no data: missing, not zero
    assert days_with_data((q.interval for q in script()), days, SHANGHAI) == days[1:]
    forecasts = forecast_day(history_of(script(), days, SHANGHAI), MONDAY, SHANGHAI, weeks=4)
    by_local = {f.local_start.time(): f for f in forecasts}
    nine = by_local[time(9, 0)]
    assert nine.start == datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    assert nine.calls == pytest.approx(50 / 3)
    assert nine.aht_s == pytest.approx(5260 / 30)  # (3100 s + 2160 s) / 30 handled
    assert nine.samples == 3
    assert by_local[time(10, 0)].calls == pytest.approx(4 / 3)
    assert by_local[time(10, 0)].aht_s == pytest.approx(120)
    quiet = by_local[time(3, 30)]
    assert quiet.calls == 0
    assert quiet.aht_s == pytest.approx(5740 / 34)  # nothing handled there: the weekday's AHT


def test_only_the_last_weeks_count() -> None:
    days = past_days(MONDAY, 3)
    forecasts = forecast_day(history_of(script(), days, SHANGHAI), MONDAY, SHANGHAI, weeks=1)
    nine = next(f for f in forecasts if f.local_start.time() == time(9, 0))
    assert (nine.calls, nine.samples) == (0, 1)  # only 11-30, which had nothing at 09:00


def test_empty_history_forecasts_nothing_and_needs_nobody() -> None:
    forecasts = forecast_day({}, MONDAY, SHANGHAI, default_aht_s=240)
    assert len(forecasts) == 48
    assert all(f.calls == 0 and f.aht_s == 240 and f.samples == 0 for f in forecasts)
    plans = plan_day(forecasts, target_sl=0.8, target_s=20, max_occupancy=0.85)
    assert all(p.staffing.agents == 0 and p.staffing.service_level == 1.0 for p in plans)


def test_each_half_hour_is_staffed_with_erlang_c() -> None:
    days = past_days(MONDAY, 3)
    forecasts = forecast_day(history_of(script(), days, SHANGHAI), MONDAY, SHANGHAI, weeks=3)
    plans = plan_day(forecasts, target_sl=0.8, target_s=20, max_occupancy=0.85)
    nine = next(p for p in plans if p.forecast.local_start.time() == time(9, 0))
    assert nine.staffing == agents_needed(50 / 3, 5260 / 30, 1800, 0.8, 20, 0.85)
    assert nine.staffing.agents == 4  # 1.62 Erlangs: 3 agents give 75.8 % in 20 s, 4 give 92.8 %


def test_a_reference_half_hour() -> None:
    """100 calls at 180 s in each past week's half hour: 10 Erlangs, 14 agents (hub/staffing.py)."""
    days = past_days(MONDAY, 2)
    loads = [quarter(local(day, 14, 0), 50, 50, 50 * 180) for day in days]
    loads += [quarter(local(day, 14, 15), 50, 50, 50 * 180) for day in days]
    plans = plan_day(forecast_day(history_of(loads, days, SHANGHAI), MONDAY, SHANGHAI),
                     target_sl=0.8, target_s=20, max_occupancy=0.85)
    two = next(p for p in plans if p.forecast.local_start.time() == time(14, 0))
    assert (two.forecast.calls, two.forecast.aht_s, two.staffing.agents) == (100, 180, 14)
    assert round(two.staffing.service_level, 3) == 0.888


def test_a_fall_back_day_gets_its_repeated_hour_twice() -> None:
    """Berlin, Sunday 2026-10-25: 02:00-03:00 happens twice (CEST, then CET): 50 half hours."""
    sunday = date(2026, 10, 25)
    days = past_days(sunday, 1)
    loads = [quarter(local(days[0], 2, 0, BERLIN), 6, 6, 6 * 100)]
    forecasts = forecast_day(history_of(loads, days, BERLIN), sunday, BERLIN)
    twos = [f for f in forecasts if f.local_start.time() == time(2, 0)]
    assert [f.start for f in twos] == [datetime(2026, 10, 25, 0, 0, tzinfo=UTC),
                                       datetime(2026, 10, 25, 1, 0, tzinfo=UTC)]
    assert [(f.calls, f.aht_s) for f in twos] == [(6, 100), (6, 100)]


def test_a_past_fall_back_day_counts_its_repeated_hour_once() -> None:
    """The two 02:00 half hours of 2026-10-25 give one sample for the wall-clock slot: their mean."""
    sunday = date(2026, 11, 1)
    days = past_days(sunday, 1)
    assert days == [date(2026, 10, 25)]
    loads = [quarter(datetime(2026, 10, 25, 0, 0, tzinfo=UTC), 10),  # 02:00 CEST
             quarter(datetime(2026, 10, 25, 1, 15, tzinfo=UTC), 20)]  # 02:00 CET (its second quarter)
    history = history_of(loads, days, BERLIN)
    assert history[(6, time(2, 0))] == [HalfHourSample(offered=15, handled=0, handle_ms=0)]
    forecasts = forecast_day(history, sunday, BERLIN)
    assert len(forecasts) == 48
    assert next(f for f in forecasts if f.local_start.time() == time(2, 0)).calls == 15


def test_a_spring_forward_day_has_no_sample_for_the_lost_hour() -> None:
    sunday = date(2026, 4, 5)
    days = past_days(sunday, 2)  # 03-22 (normal), 03-29 (02:00-03:00 does not exist)
    loads = [quarter(local(days[0], 2, 0, BERLIN), 8), quarter(local(days[1], 4, 0, BERLIN), 2)]
    history = history_of(loads, days, BERLIN)
    assert history[(6, time(2, 0))] == [HalfHourSample(offered=8, handled=0, handle_ms=0)]
    assert len(history[(6, time(4, 0))]) == 2
    two = next(f for f in forecast_day(history, sunday, BERLIN) if f.local_start.time() == time(2, 0))
    assert (two.calls, two.samples) == (8, 1)


def test_quarter_hours_outside_the_days_are_ignored() -> None:
    days = past_days(MONDAY, 1)
    loads = [quarter(local(days[0], 0, 0) - timedelta(minutes=15), 99)]  # Sunday 23:45 local
    assert history_of(loads, days, SHANGHAI) == {}
