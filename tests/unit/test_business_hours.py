"""Business hours (hub/domain/business_hours.py): open or not, the next opening, across clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from hub.domain.business_hours import OpeningHours, is_open, next_opening, parse_weekly, weekly_doc

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")  # clocks go forward 2026-03-29 02:00 and back 2026-10-25 03:00
WEEKDAYS = {day: "08:00-20:00" for day in ("mon", "tue", "wed", "thu", "fri")}


def hours(zone: ZoneInfo, spec: dict[str, str], **calendar: frozenset[date]) -> OpeningHours:
    return OpeningHours(zone=zone, windows=parse_weekly(spec), **calendar)


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)  # type: ignore[misc]


@pytest.mark.parametrize(("at", "expected"), [
    ((2026, 12, 7, 7, 59), False),  # Monday before opening
    ((2026, 12, 7, 8, 0), True),
    ((2026, 12, 7, 19, 59), True),
    ((2026, 12, 7, 20, 0), False),  # closes at 20:00 sharp
    ((2026, 12, 5, 12, 0), False),  # Saturday
])
def test_open_inside_the_weekly_window_only(at: tuple[int, ...], expected: bool) -> None:
    assert is_open(hours(SHANGHAI, WEEKDAYS), local(SHANGHAI, *at)) is expected


def test_the_next_opening_skips_the_weekend_and_holidays() -> None:
    centre = hours(SHANGHAI, WEEKDAYS, holidays=frozenset({date(2026, 12, 7)}))
    friday_night = local(SHANGHAI, 2026, 12, 4, 21, 0)
    assert next_opening(centre, friday_night) == local(SHANGHAI, 2026, 12, 8, 8, 0).astimezone(UTC)
    assert next_opening(centre, local(SHANGHAI, 2026, 12, 8, 9, 0)) == local(SHANGHAI, 2026, 12, 8, 9, 0)


def test_an_extra_workday_opens_on_the_first_weekday_hours() -> None:
    spec = {"mon": "09:00-17:00", "tue": "08:00-20:00"}
    centre = hours(SHANGHAI, spec, extra_workdays=frozenset({date(2026, 12, 6)}))  # a Sunday
    assert is_open(centre, local(SHANGHAI, 2026, 12, 6, 10, 0))
    assert not is_open(centre, local(SHANGHAI, 2026, 12, 6, 8, 30))


def test_local_hours_hold_on_both_days_the_clocks_change() -> None:
    centre = hours(BERLIN, {"sun": "08:00-20:00", "mon": "08:00-20:00"})
    # Spring: the day is 23 hours long, still 08:00 to 20:00 local (06:00-18:00 UTC, CEST).
    assert next_opening(centre, local(BERLIN, 2026, 3, 29, 1, 0)) == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    assert is_open(centre, datetime(2026, 3, 29, 17, 59, tzinfo=UTC))
    assert not is_open(centre, datetime(2026, 3, 29, 18, 0, tzinfo=UTC))
    # Autumn: 08:00 local is 07:00 UTC again (CET).
    assert next_opening(centre, local(BERLIN, 2026, 10, 25, 2, 30)) == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)
    assert not is_open(centre, datetime(2026, 10, 25, 6, 59, tzinfo=UTC))


def test_midnight_closing_and_no_hours() -> None:
    late = hours(SHANGHAI, {"fri": "18:00-24:00"})
    assert is_open(late, local(SHANGHAI, 2026, 12, 4, 23, 59))
    assert not is_open(late, local(SHANGHAI, 2026, 12, 5, 0, 0))
    always = OpeningHours(zone=SHANGHAI)
    assert is_open(always, local(SHANGHAI, 2026, 12, 5, 3, 0))
    weekly = hours(SHANGHAI, {"mon": "08:00-09:00"})
    assert next_opening(weekly, local(SHANGHAI, 2026, 12, 7, 10, 0)) == local(SHANGHAI, 2026, 12, 14, 8, 0)


@pytest.mark.parametrize("spec", [{"monday": "08:00-20:00"}, {"mon": "8-20"}, {"mon": "20:00-08:00"},
                                  {"mon": "24:00-24:00"}, {"mon": "08:00-24:30"}, {"mon": ""}])
def test_bad_hours_are_refused(spec: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        parse_weekly(spec)


def test_the_stored_form_round_trips() -> None:
    spec = {"mon": "08:00-20:00", "sat": "09:30-24:00"}
    assert weekly_doc(parse_weekly(spec)) == spec
