"""The work order's state machine (pure): which action may move an order from which state to which.

::

    open ──dispatch──► dispatched ──reply (回单)──► replied ──close──► closed ──reopen──► reopened
     │                  │   ▲  ▲                      │                                   │
     │                  │   │  └──────redispatch──────┘            dispatch/redispatch ◄──┘
     │       wait_customer  resume                                  (and close again)
     │                  ▼   │
     │            waiting_customer
     └──close (a consultation answered at once)──► closed

``acknowledge`` (the crew is on site, the customer was contacted) stops the first-response timer
without a change of state; ``note`` records anything else. Both are allowed while the order is
with a department. A ``redispatch`` of a dispatched order moves it to another department.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from hub.errors import IllegalTransition


class OrderState(enum.StrEnum):
    OPEN = "open"
    DISPATCHED = "dispatched"
    WAITING_CUSTOMER = "waiting_customer"  # the SLA timers are paused
    REPLIED = "replied"
    CLOSED = "closed"
    REOPENED = "reopened"  # a dissatisfied survey answer or a supervisor: back to a supervisor


class Action(enum.StrEnum):
    CREATE = "create"
    DISPATCH = "dispatch"
    REDISPATCH = "redispatch"
    ACKNOWLEDGE = "acknowledge"
    WAIT_CUSTOMER = "wait_customer"
    RESUME = "resume"
    REPLY = "reply"
    CLOSE = "close"
    REOPEN = "reopen"
    NOTE = "note"


St = OrderState
WITH_DEPARTMENT = frozenset({St.DISPATCHED, St.WAITING_CUSTOMER})

# (action, from) -> to
EDGES: Mapping[tuple[Action, OrderState], OrderState] = {
    (Action.DISPATCH, St.OPEN): St.DISPATCHED,
    (Action.DISPATCH, St.REOPENED): St.DISPATCHED,
    (Action.REDISPATCH, St.DISPATCHED): St.DISPATCHED,
    (Action.REDISPATCH, St.REPLIED): St.DISPATCHED,
    (Action.REDISPATCH, St.REOPENED): St.DISPATCHED,
    (Action.ACKNOWLEDGE, St.DISPATCHED): St.DISPATCHED,
    (Action.WAIT_CUSTOMER, St.DISPATCHED): St.WAITING_CUSTOMER,
    (Action.RESUME, St.WAITING_CUSTOMER): St.DISPATCHED,
    (Action.REPLY, St.DISPATCHED): St.REPLIED,
    (Action.CLOSE, St.OPEN): St.CLOSED,
    (Action.CLOSE, St.REPLIED): St.CLOSED,
    (Action.CLOSE, St.REOPENED): St.CLOSED,
    (Action.REOPEN, St.CLOSED): St.REOPENED,
    **{(Action.NOTE, state): state for state in OrderState},
}


def next_state(action: Action, current: OrderState | None) -> OrderState:
    """Where ``action`` takes an order in ``current`` (None: not created yet); IllegalTransition otherwise."""
    if action is Action.CREATE:
        if current is not None:
            raise IllegalTransition("the work order exists already")
        return St.OPEN
    if current is None:
        raise IllegalTransition("no such work order yet")
    try:
        return EDGES[(action, current)]
    except KeyError:
        allowed = sorted(a.value for a, s in EDGES if s is current and a is not Action.NOTE)
        raise IllegalTransition(
            f"cannot {action} a work order that is {current}; allowed: {', '.join(allowed) or 'nothing'}") from None
