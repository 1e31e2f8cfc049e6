"""Snooze's pure rules (hub/domain/snooze.py, ADR 0049): the due time of each choice, what is
refused, why a snoozed conversation wakes; and that a snooze changes no KPI (hub/kpi_intervals.py)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.domain.events import EventType, check_event
from hub.domain.snooze import SnoozePolicy, WakeReason, wake_reason
from hub.domain.states import ConversationState
from hub.errors import IllegalTransition, InvalidInput
from hub.kpi_intervals import replay
from tests.unit.test_kpi_intervals import Script

S = ConversationState
SHANGHAI = SnoozePolicy(zone=ZoneInfo("Asia/Shanghai"), wake_at=time(9, 0), max_ahead=timedelta(days=30))
NOW = datetime(2026, 12, 4, 2, 30, tzinfo=UTC)  # 10:30 in Shanghai


def test_one_hour_is_an_hour_from_now() -> None:
    assert SHANGHAI.until(NOW, preset="1h", at=None) == NOW + timedelta(hours=1)


def test_tomorrow_is_nine_in_the_centres_zone_on_its_next_day() -> None:
    assert SHANGHAI.until(NOW, preset="tomorrow", at=None) == datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
    late = datetime(2026, 12, 4, 17, 30, tzinfo=UTC)  # already 01:30 on the 5th in Shanghai
    assert SHANGHAI.until(late, preset="tomorrow", at=None) == datetime(2026, 12, 6, 1, 0, tzinfo=UTC)


def test_tomorrow_keeps_the_wall_time_across_a_clock_change() -> None:
    berlin = SnoozePolicy(zone=ZoneInfo("Europe/Berlin"), wake_at=time(9, 0), max_ahead=timedelta(days=30))
    before = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # the clocks go forward in the night to the 29th
    assert berlin.until(before, preset="tomorrow", at=None) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


def test_a_picked_time_is_taken_as_given() -> None:
    picked = datetime(2026, 12, 6, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert SHANGHAI.until(NOW, preset=None, at=picked) == picked


@pytest.mark.parametrize(("preset", "at", "message"), [
    (None, None, "either a preset or a time"),
    ("1h", NOW + timedelta(hours=2), "either a preset or a time"),
    ("next week", None, "unknown snooze preset"),
    (None, NOW + timedelta(seconds=30), "at least a minute ahead"),
    (None, NOW - timedelta(hours=1), "at least a minute ahead"),
    (None, NOW + timedelta(days=31), "at most 30 days"),
    (None, datetime(2026, 12, 5, 9, 0), "needs a time zone"),
])
def test_what_is_refused(preset: str | None, at: datetime | None, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        SHANGHAI.until(NOW, preset=preset, at=at)


def test_it_wakes_when_due_or_when_the_customer_wrote_after_the_snooze() -> None:
    at, until = NOW, NOW + timedelta(hours=1)
    assert wake_reason(snoozed_until=until, snoozed_at=at, last_customer_at=None, now=NOW) is None
    assert wake_reason(snoozed_until=until, snoozed_at=at, last_customer_at=at - timedelta(minutes=5),
                       now=NOW + timedelta(minutes=10)) is None  # written before the snooze: already seen
    assert wake_reason(snoozed_until=until, snoozed_at=at, last_customer_at=at + timedelta(minutes=5),
                       now=NOW + timedelta(minutes=10)) is WakeReason.CUSTOMER
    assert wake_reason(snoozed_until=until, snoozed_at=at, last_customer_at=None, now=until) is WakeReason.DUE
    assert wake_reason(snoozed_until=None, snoozed_at=None, last_customer_at=NOW, now=NOW) is None


def test_only_an_assigned_conversation_is_snoozed_or_woken() -> None:
    for kind in (EventType.SNOOZED, EventType.WOKEN):
        assert check_event(kind, S.ASSIGNED, S.ASSIGNED) is kind
        for state in (S.QUEUED, S.OFFERED, S.WRAP_UP):
            with pytest.raises(IllegalTransition):
                check_event(kind, state, state)
    with pytest.raises(IllegalTransition):  # the self-edge is for these two only
        check_event(EventType.ASSIGNED, S.ASSIGNED, S.ASSIGNED)


def test_a_snooze_changes_no_kpi() -> None:
    def conversation(snooze: bool) -> Script:
        script = (Script("c9").add("created", "new", 0).add("queued", "queued", 1, queue="general")
                  .add("offered", "offered", 3, agent="bob").add("assigned", "assigned", 13))
        if snooze:
            script.add("snoozed", "assigned", 20, detail={"until": "x"}).add("woken", "assigned", 50,
                                                                              detail={"reason": "due"})
        return script.add("resolved", "resolved", 93)

    plain, snoozed = replay(conversation(False).events), replay(conversation(True).events)
    assert snoozed == plain
    assert sum(c.get("answered", 0) for b, c in plain.items() if not b.agent) == 1
