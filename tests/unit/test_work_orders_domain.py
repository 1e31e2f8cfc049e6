"""Work orders, pure: the state machine (every edge and every refusal), the aggregate's timers,
the fields each type needs, the survey's answers and the visibility rule's work-order clause."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from hub.domain.ids import AgentId, ContactId, ConversationId, Role
from hub.domain.model import Agent
from hub.domain.visibility import OrderSight, work_order_sight
from hub.errors import IllegalTransition, InvalidInput
from hub.work_orders.kinds import SPECS, OrderType, validated_fields
from hub.work_orders.model import (
    NOTICE_PENDING,
    apply,
    new_order,
    survey_may_be_asked,
    with_survey,
    with_timer_fact,
)
from hub.work_orders.sla import TimerName
from hub.work_orders.states import EDGES, Action, OrderState, next_state
from hub.work_orders.survey import SurveyAnswer, parse_answer

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
St = OrderState


@pytest.mark.parametrize(("action", "current"), sorted(EDGES, key=str))
def test_every_edge_leads_where_the_table_says(action: Action, current: OrderState) -> None:
    assert next_state(action, current) is EDGES[(action, current)]


@pytest.mark.parametrize("action", [a for a in Action if a is not Action.CREATE])
@pytest.mark.parametrize("current", list(OrderState))
def test_every_other_pair_is_refused(action: Action, current: OrderState) -> None:
    if (action, current) in EDGES:
        return
    with pytest.raises(IllegalTransition, match="allowed"):
        next_state(action, current)


def test_create_only_once() -> None:
    assert next_state(Action.CREATE, None) is St.OPEN
    with pytest.raises(IllegalTransition):
        next_state(Action.CREATE, St.OPEN)
    with pytest.raises(IllegalTransition):
        next_state(Action.DISPATCH, None)


def _order(kind: OrderType = OrderType.REPAIR):  # type: ignore[no-untyped-def]
    return new_order(order_id="wo_1", number="WO000001", kind=kind, fields={"area": "urban"}, actor="a1", at=T0,
                     conversation_id=ConversationId("c_1"), contact_id=ContactId("k_1"), language="en")


def test_the_whole_loop_moves_timers_and_history() -> None:
    order = _order()
    assert order.history[0].notice == NOTICE_PENDING
    order = apply(order, Action.DISPATCH, actor="a1", at=T0 + timedelta(minutes=1), department="repair_north")
    order = apply(order, Action.ACKNOWLEDGE, actor="d1", at=T0 + timedelta(minutes=30))
    assert order.timers[TimerName.FIRST_RESPONSE].stopped_at == T0 + timedelta(minutes=30)
    assert order.timers[TimerName.RESOLUTION].stopped_at is None
    order = apply(order, Action.WAIT_CUSTOMER, actor="d1", at=T0 + timedelta(minutes=40))
    assert order.state is St.WAITING_CUSTOMER and order.timers[TimerName.RESOLUTION].pauses[0].end is None
    order = apply(order, Action.RESUME, actor="d1", at=T0 + timedelta(minutes=50))
    assert order.timers[TimerName.RESOLUTION].pauses[0].end == T0 + timedelta(minutes=50)
    order = apply(order, Action.REPLY, actor="d1", at=T0 + timedelta(hours=2), text="Fuse replaced")
    order = apply(order, Action.CLOSE, actor="a1", at=T0 + timedelta(hours=3))
    order = with_survey(order, at=T0 + timedelta(hours=3))
    assert order.survey == "asked"
    order = with_survey(order, at=T0 + timedelta(hours=4), score=1)
    order = apply(order, Action.REOPEN, actor="survey", at=T0 + timedelta(hours=4), text="dissatisfied")
    assert order.state is St.REOPENED and order.survey is None
    assert order.timers[TimerName.RESOLUTION].started_at == T0 + timedelta(hours=4)
    assert [e.action for e in order.history] == ["create", "dispatch", "acknowledge", "wait_customer", "resume",
                                                 "reply", "close", "survey_sent", "survey_answered", "reopen"]
    assert [e.n for e in order.history] == list(range(1, 11))
    assert order.version == 10  # one per entry
    told = [e.action for e in order.history if e.notice == NOTICE_PENDING]
    assert told == ["create", "dispatch", "reply", "close", "survey_sent", "reopen"]


def test_dispatch_needs_a_department_and_a_reply_a_text() -> None:
    with pytest.raises(InvalidInput, match="department"):
        apply(_order(), Action.DISPATCH, actor="a1", at=T0)
    dispatched = apply(_order(), Action.DISPATCH, actor="a1", at=T0, department="x")
    with pytest.raises(InvalidInput, match="text"):
        apply(dispatched, Action.REPLY, actor="d1", at=T0, text="  ")


def test_a_breach_is_recorded_once_with_its_escalation() -> None:
    order = with_timer_fact(_order(), TimerName.FIRST_RESPONSE, breach=True, at=T0, escalated_to="supervisor")
    assert order.breached == {TimerName.FIRST_RESPONSE} and order.escalation == "supervisor"
    assert order.history[-1].action == "sla_breach"


def test_fields_each_type_needs() -> None:
    ok = validated_fields(OrderType.REPAIR, {"address": " 1 Main St ", "phone": "+8613800138000", "area": "rural"})
    assert ok == {"address": "1 Main St", "phone": "+8613800138000", "area": "rural"}
    with pytest.raises(InvalidInput, match="needs area"):
        validated_fields(OrderType.REPAIR, {"address": "x", "phone": "+8613800138000"})
    with pytest.raises(InvalidInput, match="area must be one of"):
        validated_fields(OrderType.REPAIR, {"address": "x", "phone": "+8613800138000", "area": "moon"})
    with pytest.raises(InvalidInput, match="no field 'colour'"):
        validated_fields(OrderType.COMPLAINT, {"subject": "s", "description": "d", "colour": "red"})
    with pytest.raises(InvalidInput, match="bill_period"):
        validated_fields(OrderType.BILLING_DISPUTE, {"account_number": "1234567", "bill_period": "2026-13",
                                                     "amount": "12.5", "description": "too high"})
    with pytest.raises(InvalidInput, match="not valid Unicode"):
        validated_fields(OrderType.CONSULTATION, {"question": "bad \ud800"})
    assert set(SPECS) == set(OrderType)


@pytest.mark.parametrize(("text", "answer"), [
    ("1", SurveyAnswer(None, 1)), (" 5 ", SurveyAnswer(None, 5)), ("WO000012 2", SurveyAnswer("WO000012", 2)),
    ("wo000012：4", SurveyAnswer("WO000012", 4)), ("WO000012,3。", SurveyAnswer("WO000012", 3)),  # noqa: RUF001
    ("6", None), ("12", None), ("my power is out", None), ("WO12 1", None),
])
def test_survey_answers(text: str, answer: SurveyAnswer | None) -> None:
    assert parse_answer(text) == answer


def _staff(role: Role, department: str | None = None) -> Agent:
    return Agent(id=AgentId("x"), username="x", display_name="x", role=role, skills=frozenset(), capacity={},
                 password_hash="", department=department)


def test_who_sees_which_work_orders() -> None:
    everything = {OrderSight.READ, OrderSight.MANAGE, OrderSight.HANDLE}
    assert work_order_sight(_staff(Role.SUPERVISOR), "repair_north") == everything
    assert work_order_sight(_staff(Role.AGENT), "repair_north") == {OrderSight.READ, OrderSight.MANAGE}
    assert work_order_sight(_staff(Role.TEAM_LEADER), None) == {OrderSight.READ, OrderSight.MANAGE}
    dora = _staff(Role.DEPARTMENT, "repair_north")
    assert work_order_sight(dora, "repair_north") == {OrderSight.READ, OrderSight.HANDLE}
    assert work_order_sight(dora, "metering") == frozenset()
    assert work_order_sight(dora, None) == frozenset()
    assert work_order_sight(_staff(Role.DEPARTMENT), None) == frozenset()
    assert work_order_sight(_staff(Role.TRAINER), "repair_north") == frozenset()


def test_the_survey_waits_until_the_closure_notice_is_queued() -> None:
    """The callback survey is never queued before the closure notice it follows (a sweep woken by
    the close raced the close's own notice and the customer read the question first)."""
    order = _order()
    order = apply(order, Action.DISPATCH, actor="a1", at=T0 + timedelta(minutes=1), department="repair_north")
    order = apply(order, Action.REPLY, actor="d1", at=T0 + timedelta(minutes=30), text="fixed")
    order = apply(order, Action.CLOSE, actor="a1", at=T0 + timedelta(minutes=40))
    assert order.history[-1].notice == NOTICE_PENDING
    assert not survey_may_be_asked(order)
    queued = replace(order, history=tuple(replace(e, notice="m_1" if e.notice else None) for e in order.history))
    assert survey_may_be_asked(queued)
