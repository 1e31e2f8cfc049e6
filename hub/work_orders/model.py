"""The work order as an aggregate (pure): its value, and what each action does to it.

``apply`` is the one way an order changes on a person's action: it checks the edge
(``hub.work_orders.states``), moves the SLA timers (stops, pauses, a fresh resolution timer on
reopen) and appends the history entry. ``with_timer_fact`` and ``with_survey`` record what the
SLA sweep and the callback survey find. The store saves the result only if nobody changed the
order meanwhile (``version``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType

from hub.domain.ids import ContactId, ConversationId
from hub.errors import InvalidInput
from hub.work_orders.kinds import OrderType
from hub.work_orders.sla import Pause, TimerName, TimerRun
from hub.work_orders.states import Action, OrderState, next_state

T = TimerName
NOTICE_PENDING = "pending"  # the customer is to be told of this entry; set to the message id once queued
NOTICE_SENDING = "sending"  # claimed by a process that is queueing it now (the sweep retries it after a while)
UNSENT = frozenset({NOTICE_PENDING, NOTICE_SENDING})


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryEntry:
    """One line of the order's history: an action, an SLA fact (``sla_warning``, ``sla_breach``) or a
    survey fact (``survey_sent``, ``survey_answered``)."""

    n: int
    action: str
    at: datetime
    actor: str
    state: OrderState  # after the entry
    department: str | None = None
    text: str = ""
    timer: str | None = None
    notice: str | None = None  # NOTICE_PENDING, the customer message's id, or None (nothing to tell)

    def __repr__(self) -> str:  # the text may hold what the customer said
        return f"HistoryEntry({self.n} {self.action} -> {self.state})"


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkOrder:
    id: str
    number: str  # what the customer and the departments quote: WO000123
    type: OrderType
    fields: Mapping[str, str]
    state: OrderState
    version: int
    conversation_id: ConversationId | None
    contact_id: ContactId | None
    language: str
    created_by: str
    created_at: datetime
    department: str | None = None
    timers: Mapping[TimerName, TimerRun] = field(default_factory=lambda: MappingProxyType({}))
    warned: frozenset[TimerName] = frozenset()
    breached: frozenset[TimerName] = frozenset()
    escalation: str | None = None  # who the last breach went to (hub.work_orders.sla.Escalation)
    survey: str | None = None  # "asked", then "answered"
    survey_score: int | None = None
    history: tuple[HistoryEntry, ...] = ()

    def __repr__(self) -> str:  # fields hold addresses and phone numbers
        return f"WorkOrder({self.number} {self.type} {self.state} v{self.version})"

    @property
    def area(self) -> str | None:
        return self.fields.get("area")


def new_order(*, order_id: str, number: str, kind: OrderType, fields: Mapping[str, str], actor: str, at: datetime,
              conversation_id: ConversationId | None, contact_id: ContactId | None, language: str,
              text: str = "", notify: bool = True) -> WorkOrder:
    """A created order: both timers start now, the customer is to be told its number (unless
    ``notify`` is False: the bot that opened it tells them in its answer)."""
    state = next_state(Action.CREATE, None)
    entry = HistoryEntry(n=1, action=Action.CREATE, at=at, actor=actor, state=state, text=text,
                         notice=NOTICE_PENDING if conversation_id and notify else None)
    return WorkOrder(id=order_id, number=number, type=kind, fields=MappingProxyType(dict(fields)), state=state,
                     version=1, conversation_id=conversation_id, contact_id=contact_id, language=language,
                     created_by=actor, created_at=at,
                     timers=MappingProxyType({T.FIRST_RESPONSE: TimerRun(at), T.RESOLUTION: TimerRun(at)}),
                     history=(entry,))


TOLD = frozenset({Action.DISPATCH, Action.REDISPATCH, Action.REPLY, Action.CLOSE, Action.REOPEN})


def apply(order: WorkOrder, action: Action, *, actor: str, at: datetime, department: str | None = None,
          text: str = "") -> WorkOrder:
    """``order`` after ``action``; IllegalTransition for an edge the machine lacks, InvalidInput for a
    dispatch without a department or a reply without text."""
    state = next_state(action, order.state)
    if action in (Action.DISPATCH, Action.REDISPATCH) and not department:
        raise InvalidInput(f"{action} needs a department")
    if action in (Action.REPLY, Action.NOTE, Action.REOPEN) and not text.strip():
        raise InvalidInput(f"{action} needs a text")
    timers, warned, breached = dict(order.timers), order.warned, order.breached
    if action in (Action.ACKNOWLEDGE, Action.REPLY, Action.CLOSE):
        _stop(timers, T.FIRST_RESPONSE, at)
    if action in (Action.REPLY, Action.CLOSE):
        _stop(timers, T.RESOLUTION, at)
    if action is Action.WAIT_CUSTOMER:
        timers = {name: _paused(run, at) for name, run in timers.items()}
    if action is Action.RESUME:
        timers = {name: _resumed(run, at) for name, run in timers.items()}
    if action is Action.REOPEN:  # a new round: the department gets a fresh resolution budget
        timers[T.RESOLUTION] = TimerRun(at)
        warned, breached = warned - {T.RESOLUTION}, breached - {T.RESOLUTION}
    moved = department if action in (Action.DISPATCH, Action.REDISPATCH) else order.department
    told = order.conversation_id is not None and action in TOLD
    entry = HistoryEntry(n=len(order.history) + 1, action=action, at=at, actor=actor, state=state,
                         department=moved, text=text.strip(), notice=NOTICE_PENDING if told else None)
    return replace(order, state=state, version=order.version + 1, department=moved,
                   timers=MappingProxyType(timers), warned=warned, breached=breached,
                   survey=None if action is Action.REOPEN else order.survey, history=(*order.history, entry))


def _stop(timers: dict[TimerName, TimerRun], name: TimerName, at: datetime) -> None:
    run = timers.get(name)
    if run is not None and run.stopped_at is None:
        timers[name] = replace(_resumed(run, at), stopped_at=at)


def _paused(run: TimerRun, at: datetime) -> TimerRun:
    if run.stopped_at is not None or any(p.end is None for p in run.pauses):
        return run
    return replace(run, pauses=(*run.pauses, Pause(at, None)))


def _resumed(run: TimerRun, at: datetime) -> TimerRun:
    return replace(run, pauses=tuple(Pause(p.start, at) if p.end is None else p for p in run.pauses))


def with_timer_fact(order: WorkOrder, timer: TimerName, *, breach: bool, at: datetime,
                    escalated_to: str | None = None) -> WorkOrder:
    """The SLA sweep found ``timer`` past its warning percentage, or past due (``breach``)."""
    entry = HistoryEntry(n=len(order.history) + 1, action="sla_breach" if breach else "sla_warning", at=at,
                         actor="sla", state=order.state, department=order.department, timer=timer,
                         text=f"escalated to {escalated_to}" if escalated_to else "")
    return replace(order, version=order.version + 1, history=(*order.history, entry),
                   warned=order.warned | {timer},
                   breached=order.breached | {timer} if breach else order.breached,
                   escalation=escalated_to or order.escalation)


def with_survey(order: WorkOrder, *, at: datetime, score: int | None = None) -> WorkOrder:
    """The survey question is to be sent (``score`` None), or the customer answered it."""
    if score is None:
        entry = HistoryEntry(n=len(order.history) + 1, action="survey_sent", at=at, actor="survey",
                             state=order.state, notice=NOTICE_PENDING if order.conversation_id else None)
        return replace(order, version=order.version + 1, survey="asked", history=(*order.history, entry))
    entry = HistoryEntry(n=len(order.history) + 1, action="survey_answered", at=at, actor="customer",
                         state=order.state, text=str(score))
    return replace(order, version=order.version + 1, survey="answered", survey_score=score,
                   history=(*order.history, entry))


def pending_notices(order: WorkOrder) -> list[HistoryEntry]:
    """Entries whose notice is not queued yet (pending, or claimed by a process that may have died)."""
    return [e for e in order.history if e.notice in UNSENT]


def survey_may_be_asked(order: WorkOrder) -> bool:
    """The callback survey of a closed order waits until the closure's notice is queued: the
    customer reads the closure before the question about it (one conversation's sends leave in the
    order they were queued, ``hub.outbox``)."""
    closures = [e for e in order.history if e.action == Action.CLOSE]
    return not closures or closures[-1].notice not in UNSENT
