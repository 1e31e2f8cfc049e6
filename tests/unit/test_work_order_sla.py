"""SLA timer arithmetic with a clock passed in: 24/7 and working-day timers, a holiday, a weekend
worked instead (调休), a pause while waiting on the customer, the warning and the breach, and a
working day across a daylight-saving change in the centre's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.config import WorkOrdersSettings
from hub.work_orders.calendar import AlwaysOpen, WorkCalendar
from hub.work_orders.kinds import OrderType
from hub.work_orders.sla import DEFAULT_TEMPLATES, Budget, Pause, TimerRun, TimerState, Unit, escalation_for, read
from hub.work_orders.sweep import configured_policy

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NATIONAL_DAY = frozenset(date(2026, 10, d) for d in range(1, 8))  # Thu 1 Oct - Wed 7 Oct 2026
CENTRE = WorkCalendar(zone=SHANGHAI, holidays=NATIONAL_DAY, extra_workdays=frozenset({date(2026, 10, 10)}))


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)  # type: ignore[misc]


def test_working_seconds_skip_nights_weekends_and_holidays() -> None:
    friday_4pm = local(SHANGHAI, 2026, 9, 25, 16, 0)
    monday_9am = local(SHANGHAI, 2026, 9, 28, 9, 0)
    assert CENTRE.working_seconds(friday_4pm, monday_9am) == 2 * 3600  # 16:00-17:30 Fri, 8:30-9:00 Mon
    # From Wednesday 30 Sep noon: 5.5 h that day, then the holiday week (1-7 Oct): one working day
    # runs out on Thursday 8 Oct at noon.
    assert CENTRE.add(local(SHANGHAI, 2026, 9, 30, 12, 0), CENTRE.day_seconds) == local(SHANGHAI, 2026, 10, 8, 12, 0)
    # Saturday 10 Oct is worked instead (调休): one working day from Friday noon ends there, not on Monday.
    assert CENTRE.add(local(SHANGHAI, 2026, 10, 9, 12, 0), CENTRE.day_seconds) == local(SHANGHAI, 2026, 10, 10, 12, 0)


def test_one_working_day_and_seven_for_a_complaint_across_the_holiday() -> None:
    template = DEFAULT_TEMPLATES.of(OrderType.COMPLAINT)
    start = local(SHANGHAI, 2026, 9, 29, 10, 0)  # Tuesday
    run = TimerRun(start)
    first = read(template.first_response, run, start, CENTRE, warn_at_pct=80)
    assert first.due_at == local(SHANGHAI, 2026, 9, 30, 10, 0)
    resolution = read(template.resolution, run, start, CENTRE, warn_at_pct=80)
    # Working days: 29 Sep (rest), 30 Sep, 8 Oct, 9 Oct, 10 Oct (Saturday worked), 12, 13, then 14 Oct 10:00.
    assert resolution.due_at == local(SHANGHAI, 2026, 10, 14, 10, 0)


def test_warning_breach_and_missed() -> None:
    budget, start = Budget(45, Unit.MINUTES), local(SHANGHAI, 2026, 12, 3, 23, 50)
    run = TimerRun(start)
    assert read(budget, run, start + timedelta(minutes=30), CENTRE, warn_at_pct=80).state is TimerState.RUNNING
    warning = read(budget, run, start + timedelta(minutes=36), CENTRE, warn_at_pct=80)
    assert (warning.state, warning.due_at) == (TimerState.WARNING, start + timedelta(minutes=45))
    breached = read(budget, run, start + timedelta(minutes=50), CENTRE, warn_at_pct=80)
    assert (breached.state, breached.due_at) == (TimerState.BREACHED, start + timedelta(minutes=45))
    stopped = TimerRun(start, stopped_at=start + timedelta(minutes=46))
    assert read(budget, stopped, start + timedelta(days=2), CENTRE, warn_at_pct=80).state is TimerState.MISSED
    met = TimerRun(start, stopped_at=start + timedelta(minutes=44))
    assert read(budget, met, start + timedelta(days=2), CENTRE, warn_at_pct=80).state is TimerState.MET


def test_a_pause_while_waiting_on_the_customer_does_not_count() -> None:
    budget, start = Budget(1, Unit.WORKING_DAYS), local(SHANGHAI, 2026, 12, 1, 9, 0)  # Tuesday
    pause = Pause(local(SHANGHAI, 2026, 12, 1, 10, 0), local(SHANGHAI, 2026, 12, 2, 10, 0))  # one working day
    now = local(SHANGHAI, 2026, 12, 2, 11, 0)
    paused_run = TimerRun(start, pauses=(pause,))
    reading = read(budget, paused_run, now, CENTRE, warn_at_pct=80)
    assert reading.elapsed_s == 2 * 3600  # 9-10 on Tuesday, 10-11 on Wednesday
    assert reading.due_at == local(SHANGHAI, 2026, 12, 3, 9, 0)  # 7 h left: 11:00-17:30 Wed, 8:30-9:00 Thu
    open_pause = TimerRun(start, pauses=(Pause(pause.start, None),))
    still = read(budget, open_pause, now + timedelta(days=5), CENTRE, warn_at_pct=80)
    assert (still.state, still.elapsed_s, still.due_at) == (TimerState.PAUSED, 3600, None)


def test_dst_in_the_centres_zone() -> None:
    berlin = WorkCalendar(zone=BERLIN, day_start=time(8, 0), day_end=time(16, 0))
    # Clocks go back on Sunday 25 Oct 2026: Friday 15:00 + 2 working hours is Monday 09:00 local,
    # which is 08:00 UTC (it was 13:00 UTC on Friday: CEST, UTC+2, then CET, UTC+1).
    friday = local(BERLIN, 2026, 10, 23, 15, 0)
    due = berlin.add(friday, 2 * 3600)
    assert due == local(BERLIN, 2026, 10, 26, 9, 0) and due.astimezone(UTC).hour == 8
    assert berlin.working_seconds(friday, due) == 2 * 3600
    # A 24/7 timer across the spring change counts real time: 45 min from 01:50 local is 03:35 local.
    night = local(BERLIN, 2026, 3, 29, 1, 50)
    assert AlwaysOpen().add(night, 45 * 60).astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 3, 29, 3, 35)
    assert AlwaysOpen().working_seconds(night, local(BERLIN, 2026, 3, 29, 3, 35)) == 45 * 60


def test_repair_arrival_by_area_and_escalation_levels() -> None:
    assert DEFAULT_TEMPLATES.of(OrderType.REPAIR, "urban").first_response == Budget(45, Unit.MINUTES)
    assert DEFAULT_TEMPLATES.of(OrderType.REPAIR, "rural").first_response == Budget(90, Unit.MINUTES)
    assert DEFAULT_TEMPLATES.of(OrderType.REPAIR, "remote").first_response == Budget(120, Unit.MINUTES)
    assert (escalation_for(1), escalation_for(2), escalation_for(3)) == ("supervisor", "manager", "manager")


def test_configured_policy_reads_the_settings() -> None:
    settings = WorkOrdersSettings(holidays=["2026-10-01"], extra_workdays=["2026-10-10"], day_start="09:00",
                                  day_end="17:00", repair_arrival_min={"urban": 30, "rural": 60, "remote": 90},
                                  resolution_days={"complaint": 5})
    policy = configured_policy(settings, "Asia/Shanghai")
    assert policy.calendar.is_working_day(date(2026, 10, 10)) and not policy.calendar.is_working_day(date(2026, 10, 1))
    assert policy.calendar.day_seconds == 8 * 3600
    assert policy.templates.of(OrderType.REPAIR, "rural").first_response == Budget(60, Unit.MINUTES)
    assert policy.templates.of(OrderType.COMPLAINT).resolution == Budget(5, Unit.WORKING_DAYS)
    with pytest.raises(ValueError, match="not a date"):
        WorkOrdersSettings(holidays=["2026-02-30"])


def test_a_calendar_without_working_days_fails_instead_of_looping() -> None:
    never = WorkCalendar(zone=SHANGHAI, workdays=frozenset())
    with pytest.raises(ValueError, match="no working time"):
        never.add(local(SHANGHAI, 2026, 1, 1, 0, 0), 60)
