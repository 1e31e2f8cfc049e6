"""The supervisors' figures (hub/kpi_figures.py): formulas over summed counters, ratios without a
denominator, service level per queue, and local days and weeks around DST changes."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.kpi_api import csv_cell
from hub.kpi_fcr import Opened, Resolution, fcr_buckets, first_contact
from hub.kpi_figures import (
    RATIOS,
    ServiceLevelRule,
    ServiceLevels,
    figures,
    local_midnight,
    periods,
    rows,
    with_service_level,
)
from hub.kpi_intervals import WAIT_EDGES_S, Bucket

BERLIN, SHANGHAI = ZoneInfo("Europe/Berlin"), ZoneInfo("Asia/Shanghai")


def test_no_denominator_gives_none_not_an_error() -> None:
    empty = figures({})
    assert empty.service_level is None and empty.answer_rate is None and empty.asa_s is None
    assert empty.aht_s is None and empty.transfer_rate is None and empty.bot_containment is None
    assert empty.longest_wait_s is None and empty.offered == 0 and empty.reopen_rate is None
    only_short = figures({"offered": 2, "abandoned": 2, "abandoned_short": 2, "max_wait_ms": 4000})
    assert only_short.service_level is None and only_short.longest_wait_s == 4.0


def test_service_level_leaves_short_abandons_out_and_counts_long_ones_as_missed() -> None:
    counts = {"answered": 4, "answered_le_20s": 3, "abandoned": 3, "abandoned_short": 1, "answered_wait_ms": 82_000,
              "resolved": 3, "handle_ms": 900_000, "after_work_ms": 120_000, "transferred_out": 1}
    f = figures(with_service_level(Bucket(datetime(2026, 3, 10, tzinfo=UTC), "general", "voice"), counts,
                                   ServiceLevels()))
    assert f.service_level == 3 / 6 and f.answer_rate == 4 / 6 and f.abandon_rate == 2 / 6
    assert f.asa_s == 20.5 and f.aht_s == 300.0 and f.after_work_s == 40.0 and f.transfer_rate == 0.25
    reopened = figures({**counts, "reopened": 1})
    assert (reopened.reopened, reopened.reopen_rate, f.reopened, f.reopen_rate) == (1, 1 / 3, 0, 0.0)


def test_each_queue_has_its_own_threshold() -> None:
    at = datetime(2026, 3, 10, tzinfo=UTC)
    counts = {"answered": 2, "answered_le_10s": 1, "answered_le_20s": 2}
    levels = ServiceLevels(queues={"outages": ServiceLevelRule(seconds=10, target=0.9)})
    buckets = [(Bucket(at, "outages", "voice"), counts), (Bucket(at, "billing", "voice"), counts)]
    day = periods(date(2026, 3, 10), date(2026, 3, 10), "day", ZoneInfo("UTC"))
    by_queue = {r.key: r.figures("queue").service_level for r in rows(buckets, day, "queue", levels)}
    assert by_queue == {"outages": 0.5, "billing": 1.0}
    (total,) = rows(buckets, day, "none", levels)
    assert total.figures("none").service_level == 3 / 4
    with pytest.raises(ValueError):
        ServiceLevelRule(seconds=25)


def test_agent_rows_sum_the_agents_buckets_and_other_rows_the_queues() -> None:
    at = datetime(2026, 3, 10, tzinfo=UTC)
    buckets = [(Bucket(at, "general", "webchat"), {"offered": 1, "answered": 1}),
               (Bucket(at, "general", "webchat", "alice"), {"answered": 1, "offers": 2})]
    day = periods(date(2026, 3, 10), date(2026, 3, 10), "day", ZoneInfo("UTC"))
    (total,) = rows(buckets, day, "none", ServiceLevels())
    (alice,) = rows(buckets, day, "agent", ServiceLevels())
    assert total.counts["answered"] == 1 and alice.key == "alice" and alice.counts["offers"] == 2
    assert alice.figures("agent").service_level is None


@pytest.mark.parametrize(("day", "hours"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25),
                                            (date(2026, 3, 30), 24)])
def test_a_berlin_dst_day_has_its_own_number_of_hours(day: date, hours: int) -> None:
    (whole,) = periods(day, day, "day", BERLIN)
    assert whole.end - whole.start == timedelta(hours=hours)
    assert whole.start == local_midnight(day, BERLIN) and whole.label == day.isoformat()
    quarters = periods(day, day, "interval", BERLIN)
    assert len(quarters) == hours * 4
    assert quarters[0].start == whole.start and quarters[-1].end == whole.end


def test_quarter_hours_are_labelled_in_local_time_across_the_changes() -> None:
    spring = [p.label for p in periods(date(2026, 3, 29), date(2026, 3, 29), "interval", BERLIN)]
    assert spring[7:9] == ["2026-03-29T01:45+01:00", "2026-03-29T03:00+02:00"]  # 02:00-03:00 never happens
    autumn = [p.label for p in periods(date(2026, 10, 25), date(2026, 10, 25), "interval", BERLIN)]
    assert autumn[8] == "2026-10-25T02:00+02:00" and autumn[12] == "2026-10-25T02:00+01:00"  # twice
    assert len(set(autumn)) == 100


def test_buckets_fall_into_the_local_day_not_the_utc_day() -> None:
    # 2026-03-28 23:30Z is 00:30 on the 29th in Berlin (UTC+1); 2026-03-29 22:15Z is 00:15 on the 30th (UTC+2).
    buckets = [(Bucket(datetime(2026, 3, 28, 23, 30, tzinfo=UTC), "q", "sms"), {"offered": 1}),
               (Bucket(datetime(2026, 3, 29, 21, 45, tzinfo=UTC), "q", "sms"), {"offered": 10}),
               (Bucket(datetime(2026, 3, 29, 22, 15, tzinfo=UTC), "q", "sms"), {"offered": 100})]
    days = periods(date(2026, 3, 29), date(2026, 3, 30), "day", BERLIN)
    assert [(r.period.label, r.counts["offered"]) for r in rows(buckets, days, "none", ServiceLevels())] == [
        ("2026-03-29", 11), ("2026-03-30", 100)]
    autumn = [(Bucket(datetime(2026, 10, 24, 22, 0, tzinfo=UTC), "q", "sms"), {"offered": 1}),  # 00:00 CEST
              (Bucket(datetime(2026, 10, 25, 22, 45, tzinfo=UTC), "q", "sms"), {"offered": 2})]  # 23:45 CET
    (day,) = rows(autumn, periods(date(2026, 10, 25), date(2026, 10, 25), "day", BERLIN), "none", ServiceLevels())
    assert day.counts["offered"] == 3


def test_weeks_are_iso_weeks_cut_to_the_range() -> None:
    weeks = periods(date(2026, 3, 25), date(2026, 4, 7), "week", SHANGHAI)
    assert [w.label for w in weeks] == ["2026-W13", "2026-W14", "2026-W15"]
    assert weeks[0].start == datetime(2026, 3, 24, 16, tzinfo=UTC)  # Wednesday 25th, 00:00 in Shanghai
    assert weeks[1].end - weeks[1].start == timedelta(days=7)
    assert weeks[2].end == datetime(2026, 4, 7, 16, tzinfo=UTC)
    berlin = periods(date(2026, 3, 23), date(2026, 3, 29), "week", BERLIN)
    assert len(berlin) == 1 and berlin[0].end - berlin[0].start == timedelta(days=7, hours=-1)


def test_csv_cells_cannot_become_formulas() -> None:
    assert [csv_cell(v) for v in ("=SUM(A1)", "+1", "-2", "@x", "\tx", "general", None, 12.345, 7)] == [
        "'=SUM(A1)", "'+1", "'-2", "'@x", "'\tx", "general", "", "12.3", "7"]


counters = st.fixed_dictionaries({
    "answered": st.integers(0, 50), "abandoned": st.integers(0, 50), "with_bot": st.integers(0, 50),
    "resolved": st.integers(0, 50), "offered": st.integers(0, 100),
}).flatmap(lambda c: st.fixed_dictionaries({
    **{k: st.just(v) for k, v in c.items()}, "reopened": st.integers(0, c["resolved"]),
    "abandoned_short": st.integers(0, c["abandoned"]), "answered_in_sl": st.integers(0, c["answered"]),
    "transferred_out": st.integers(0, c["answered"]), "resolved_by_bot": st.integers(0, c["with_bot"]),
    "answered_wait_ms": st.integers(0, 10**9), "handle_ms": st.integers(0, 10**9),
    "after_work_ms": st.integers(0, 10**9), "max_wait_ms": st.integers(0, 10**7),
}))


@given(counters)
def test_ratios_of_consistent_counters_are_shares(counts: dict[str, int]) -> None:
    f = figures(counts)
    for name in RATIOS:
        value = getattr(f, name)
        assert value is None or 0 <= value <= 1, (name, value)
    if f.answer_rate is not None and f.abandon_rate is not None:
        assert f.answer_rate + f.abandon_rate == pytest.approx(1)
    assert (f.service_level is None) == (counts["answered"] + counts["abandoned"] - counts["abandoned_short"] == 0)


@given(st.dates(date(2000, 1, 1), date(2040, 1, 1)),
       st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Shanghai", "Asia/Kathmandu",
                        "Australia/Lord_Howe", "America/Santiago", "America/Havana"]))
def test_local_days_tile_the_utc_quarter_hours(day: date, zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    days = periods(day, day + timedelta(days=2), "day", zone)
    quarters = periods(day, day + timedelta(days=2), "interval", zone)
    assert days[0].start == quarters[0].start and days[-1].end == quarters[-1].end
    assert all(a.end == b.start for a, b in itertools.pairwise(days))
    assert all(p.start.minute % 15 == 0 for p in days)
    assert sum(int((d.end - d.start) / timedelta(minutes=15)) for d in days) == len(quarters)


def test_every_default_edge_is_a_projection_edge() -> None:
    assert ServiceLevelRule().seconds in WAIT_EDGES_S


def test_first_contact_resolution_is_decided_when_the_window_has_passed() -> None:
    at = datetime(2026, 3, 10, 8, tzinfo=UTC)
    week = timedelta(days=7)
    resolved = Resolution(conversation_id="c1", contact_id="k", queue="general", channel="sms", agent="alice", at=at)

    def came_back(after: timedelta, queue: str = "general", contact: str = "k", cid: str = "c2") -> Opened:
        return Opened(conversation_id=cid, contact_id=contact, queue=queue, created_at=at + after)

    later = at + week + timedelta(seconds=1)
    assert first_contact(resolved, [], week, at + timedelta(days=6)) is None  # not yet decided
    assert first_contact(resolved, [came_back(timedelta(days=1))], week, at + timedelta(days=6)) is None
    assert first_contact(resolved, [], week, at + week) is True
    assert first_contact(resolved, [came_back(week)], week, later) is False  # within 7 days, to the second
    assert first_contact(resolved, [came_back(week + timedelta(seconds=1))], week, later) is True
    assert first_contact(resolved, [came_back(timedelta(days=1), queue="billing")], week, later) is True
    assert first_contact(resolved, [came_back(timedelta(days=1), contact="other")], week, later) is True
    assert first_contact(resolved, [came_back(-timedelta(hours=1))], week, later) is True  # opened before
    assert first_contact(resolved, [came_back(timedelta(days=1), cid="c1")], week, later) is True
    # Reopened by staff within the window: not resolved at first contact; before it or after: no matter.
    assert first_contact(resolved, [], week, later, [at + timedelta(days=3)]) is False
    assert first_contact(resolved, [], week, later, [at - timedelta(days=1), at + week + timedelta(seconds=1)]) is True
    assert fcr_buckets([resolved], [], week, later, {"c1": [at + week]})[0][1] == {"fcr_decided": 1, "fcr_first": 0}
    assert fcr_buckets([resolved], [], week, later, {"c9": [at + week]})[0][1] == {"fcr_decided": 1, "fcr_first": 1}
    counted = fcr_buckets([resolved], [came_back(timedelta(days=2))], week, later)
    assert [(b.agent, c) for b, c in counted] == [("", {"fcr_decided": 1, "fcr_first": 0}),
                                                  ("alice", {"fcr_decided": 1, "fcr_first": 0})]
    assert figures({"fcr_decided": 4, "fcr_first": 3}).fcr == 0.75 and figures({"fcr_pending": 2}).fcr is None


def test_a_day_whose_midnight_never_happens_starts_at_its_first_instant() -> None:
    # Santiago skips from 00:00 to 01:00 on 2026-09-06: the day starts at 01:00 -03 and has 23 hours.
    (day,) = periods(date(2026, 9, 6), date(2026, 9, 6), "day", ZoneInfo("America/Santiago"))
    assert day.start == datetime(2026, 9, 6, 4, tzinfo=UTC) and day.end - day.start == timedelta(hours=23)
    assert day.start.astimezone(ZoneInfo("America/Santiago")).isoformat() == "2026-09-06T01:00:00-03:00"
