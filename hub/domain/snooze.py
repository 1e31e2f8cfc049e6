"""Snooze (issue 16 item 2, ADR 0049): when a snoozed conversation is due, and when it wakes.

Pure: no I/O. An agent snoozes a conversation she holds (assigned) until a time: one hour from now,
tomorrow at the centre's opening time in the centre's zone, or a time she picked. It stays hers
and keeps its place in her capacity; it wakes at that time, or at once when the customer writes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from hub.errors import InvalidInput

MIN_AHEAD = timedelta(minutes=1)  # a snooze shorter than this is a slip of the hand


class Preset(enum.StrEnum):
    HOUR = "1h"
    TOMORROW = "tomorrow"


class WakeReason(enum.StrEnum):
    DUE = "due"  # the time came
    CUSTOMER = "customer"  # the customer wrote
    AGENT = "agent"  # the agent (or a supervisor) woke it by hand


@dataclass(frozen=True, slots=True, kw_only=True)
class SnoozePolicy:
    zone: ZoneInfo
    wake_at: time  # "tomorrow" means this local time on the next day
    max_ahead: timedelta

    def until(self, now: datetime, *, preset: str | None, at: datetime | None) -> datetime:
        """The due time of a snooze chosen now (UTC); InvalidInput for anything else than exactly
        one of a known preset or a time, or a time not between a minute and ``max_ahead`` ahead."""
        if (preset is None) == (at is None):
            raise InvalidInput("give either a preset or a time to snooze until")
        if preset is not None:
            try:
                chosen = Preset(preset)
            except ValueError:
                raise InvalidInput(f"unknown snooze preset {preset!r}; use 1h or tomorrow") from None
            due = now + timedelta(hours=1) if chosen is Preset.HOUR else self.tomorrow(now)
        else:
            assert at is not None
            if at.tzinfo is None:
                raise InvalidInput("the snooze time needs a time zone (an ISO 8601 time with an offset)")
            due = at
        if due - now < MIN_AHEAD:
            raise InvalidInput("the snooze time must be at least a minute ahead")
        if due - now > self.max_ahead:
            raise InvalidInput(f"a snooze may last at most {self.max_ahead.days} days")
        return due.astimezone(now.tzinfo) if now.tzinfo else due

    def tomorrow(self, now: datetime) -> datetime:
        """``wake_at`` on the centre's next calendar day, DST-safe (the wall time, then its instant)."""
        local = now.astimezone(self.zone)
        day = local.date() + timedelta(days=1)
        return datetime.combine(day, self.wake_at, tzinfo=self.zone).astimezone(now.tzinfo)


def wake_reason(*, snoozed_until: datetime | None, snoozed_at: datetime | None,
                last_customer_at: datetime | None, now: datetime) -> WakeReason | None:
    """Why a snoozed conversation must wake now, or None (also for one that is not snoozed).

    The customer's message wins over the clock: the agent learns why it came back."""
    if snoozed_until is None:
        return None
    if last_customer_at is not None and snoozed_at is not None and last_customer_at > snoozed_at:
        return WakeReason.CUSTOMER
    if snoozed_until <= now:
        return WakeReason.DUE
    return None
