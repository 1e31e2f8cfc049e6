"""The callback survey as a phone call (回访 by phone, pure): when to call, call again, or fall
back to the SMS question.

A closed order whose customer has a phone is called when voice is on (``survey`` "calling"; each
attempt a ``survey_call`` entry). Not answered or busy: ``survey_call_unanswered``, and after
``retry_s`` the next attempt, up to ``attempts``; then the SMS question as without voice
(``survey_sent``). An attempt with no outcome long after it started (its process died, the PBX was
away) counts as unanswered. Answered without a valid key: ``survey_call_no_key``, and the survey
ends unanswered (the customer was asked; no SMS follows).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from hub.work_orders.model import HistoryEntry, WorkOrder

CALLING = "calling"
CALL = "survey_call"
UNANSWERED = "survey_call_unanswered"
NO_KEY = "survey_call_no_key"


class Next(enum.StrEnum):
    WAIT = "wait"
    CALL = "call"
    SMS = "sms"


@dataclass(frozen=True, slots=True, kw_only=True)
class CallPolicy:
    attempts: int
    retry: timedelta
    stale: timedelta  # an attempt without an outcome this long: counted as unanswered


def attempts(order: WorkOrder) -> int:
    """Calls made in this survey round (since the order's last closure)."""
    count = 0
    for entry in reversed(order.history):
        if entry.action == "close":
            break
        count += entry.action == CALL
    return count


def next_step(order: WorkOrder, now: datetime, policy: CallPolicy) -> Next:
    """What the sweep does with an order whose survey is ``calling``."""
    last = order.history[-1]
    if last.action == CALL and now - last.at < policy.stale:
        return Next.WAIT
    if last.action not in (CALL, UNANSWERED):
        return Next.WAIT
    if now - last.at < policy.retry:
        return Next.WAIT
    return Next.CALL if attempts(order) < policy.attempts else Next.SMS


def _entry(order: WorkOrder, action: str, at: datetime, actor: str, text: str) -> HistoryEntry:
    return HistoryEntry(n=len(order.history) + 1, action=action, at=at, actor=actor, state=order.state, text=text)


def with_call(order: WorkOrder, *, at: datetime) -> WorkOrder:
    """The next survey call starts now."""
    entry = _entry(order, CALL, at, "survey", f"attempt {attempts(order) + 1}")
    return replace(order, version=order.version + 1, survey=CALLING, history=(*order.history, entry))


def with_unanswered(order: WorkOrder, *, at: datetime, reason: str) -> WorkOrder:
    """The call was not answered (``no_answer``, ``busy``, ``failed`` ...)."""
    entry = _entry(order, UNANSWERED, at, "survey", reason)
    return replace(order, version=order.version + 1, history=(*order.history, entry))


def with_no_key(order: WorkOrder, *, at: datetime) -> WorkOrder:
    """Answered, asked twice, no valid key: the survey ends without an answer."""
    entry = _entry(order, NO_KEY, at, "customer", "")
    return replace(order, version=order.version + 1, survey="unanswered", history=(*order.history, entry))
