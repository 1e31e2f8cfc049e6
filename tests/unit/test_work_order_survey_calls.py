"""The callback survey by phone (hub/work_orders/call_survey.py): when to call, call again, or send
the SMS question instead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.domain.ids import ContactId, ConversationId
from hub.work_orders.call_survey import CallPolicy, Next, attempts, next_step, with_call, with_no_key, with_unanswered
from hub.work_orders.kinds import OrderType
from hub.work_orders.model import WorkOrder, apply, new_order
from hub.work_orders.states import Action

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
POLICY = CallPolicy(attempts=2, retry=timedelta(minutes=10), stale=timedelta(minutes=15))


def _closed() -> WorkOrder:
    order = new_order(order_id="wo1", number="WO000001", kind=OrderType.COMPLAINT, actor="a1", at=T0,
                      fields={"subject": "s", "description": "d", "phone": "+8613800138000"},
                      conversation_id=ConversationId("c1"), contact_id=ContactId("k1"), language="en")
    return apply(order, Action.CLOSE, actor="a1", at=T0)


def test_an_unanswered_call_is_made_again_after_the_wait_then_the_sms_goes_instead() -> None:
    first = with_call(_closed(), at=T0)
    assert (first.survey, attempts(first), first.history[-1].text) == ("calling", 1, "attempt 1")
    assert next_step(first, T0 + timedelta(minutes=1), POLICY) is Next.WAIT  # ringing: no outcome yet
    missed = with_unanswered(first, at=T0 + timedelta(minutes=1), reason="no_answer")
    assert next_step(missed, T0 + timedelta(minutes=5), POLICY) is Next.WAIT
    assert next_step(missed, T0 + timedelta(minutes=11), POLICY) is Next.CALL
    second = with_unanswered(with_call(missed, at=T0 + timedelta(minutes=11)), at=T0 + timedelta(minutes=12),
                             reason="busy")
    assert attempts(second) == 2
    assert next_step(second, T0 + timedelta(minutes=23), POLICY) is Next.SMS


def test_a_call_without_an_outcome_counts_as_unanswered_once_stale() -> None:
    calling = with_call(_closed(), at=T0)
    assert next_step(calling, T0 + timedelta(minutes=14), POLICY) is Next.WAIT
    assert next_step(calling, T0 + timedelta(minutes=16), POLICY) is Next.CALL


def test_no_key_ends_the_survey_and_attempts_count_from_the_last_closure() -> None:
    ended = with_no_key(with_call(_closed(), at=T0), at=T0)
    assert ended.survey == "unanswered" and ended.history[-1].action == "survey_call_no_key"
    again = apply(apply(ended, Action.REOPEN, actor="s", at=T0, text="again"), Action.CLOSE, actor="s", at=T0)
    assert attempts(again) == 0
