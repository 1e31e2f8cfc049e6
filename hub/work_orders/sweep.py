"""The work orders' background round (one process at a time, under a lease): SLA warnings and
breaches with their escalation, the callback survey of orders just closed, and customer notices
a crashed process left pending. Everything it acts on is state on the orders, so a round that
dies half-way is simply done again by the next (each step is idempotent on the order's version).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from hub.config import WorkOrdersSettings
from hub.errors import ConcurrentUpdate, NotFound
from hub.supervisor import Health
from hub.work_orders.calendar import WorkCalendar
from hub.work_orders.kinds import Area, OrderType
from hub.work_orders.model import WorkOrder, survey_may_be_asked, with_survey, with_timer_fact
from hub.work_orders.service import WorkOrderDesk
from hub.work_orders.sla import (
    DEFAULT_TEMPLATES,
    Budget,
    Reading,
    Template,
    Templates,
    TimerName,
    TimerState,
    Unit,
    escalation_for,
    read,
)
from hub.work_orders.survey_calls import SurveyCalls

logger = logging.getLogger(__name__)

NOTICE_RETRY_AFTER_S = 30.0  # a notice still pending this long after its entry: its process died


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    templates: Templates
    calendar: WorkCalendar
    warn_at_pct: float

    def readings(self, order: WorkOrder, now: datetime) -> dict[TimerName, Reading]:
        template = self.templates.of(order.type, order.area)
        return {name: read(template.budget(name), run, now, self.calendar, warn_at_pct=self.warn_at_pct)
                for name, run in order.timers.items()}


def timer_facts(order: WorkOrder, readings: dict[TimerName, Reading]) -> list[tuple[TimerName, bool]]:
    """What the sweep must record: (timer, breach) for each warning or breach not recorded yet."""
    facts = []
    for name in TimerName:
        reading = readings.get(name)
        if reading is None:
            continue
        if reading.state is TimerState.BREACHED and name not in order.breached:
            facts.append((name, True))
        elif reading.state is TimerState.WARNING and name not in order.warned:
            facts.append((name, False))
    return facts


class WorkOrderSweep:
    def __init__(self, desk: WorkOrderDesk, policy: SlaPolicy, *, poll_s: float,
                 calls: SurveyCalls | None = None) -> None:
        self._desk = desk
        self._calls = calls  # the survey by phone (voice on), else every survey goes by SMS
        self._policy = policy
        self._poll_s = poll_s
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, health: Health) -> None:
        """The supervised loop (``hub.supervisor``): a round every ``poll_s``, or sooner when woken."""
        while True:
            self._wake.clear()
            await self.sweep()
            health.up()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_s)

    async def sweep(self) -> int:
        """One round; returns how many orders it changed."""
        store, changed = self._desk.store, 0
        for order in await store.open_orders():
            changed += await self._timers(order)
        for order in await store.closed_unsurveyed():
            changed += await self._ask(order)
        if self._calls is not None:
            changed += await self._calls.sweep()
        for order in await store.with_pending_notices():
            await self._desk.deliver(order, older_than_s=NOTICE_RETRY_AFTER_S)
        return changed

    async def _timers(self, order: WorkOrder) -> int:
        now = self._desk.clock.now()
        facts = timer_facts(order, self._policy.readings(order, now))
        if not facts:
            return 0
        for name, breach in facts:
            level = len(order.breached) + 1
            escalated_to = escalation_for(level).value if breach else None
            order = with_timer_fact(order, name, breach=breach, at=now, escalated_to=escalated_to)
            try:
                order = await self._desk.commit(order)
            except (ConcurrentUpdate, NotFound):
                return 0  # someone moved it: the next round reads it afresh
            if breach:
                logger.warning("work_orders.sla.breach number=%s timer=%s escalated_to=%s",
                               order.number, name, escalated_to)
        return 1

    async def _ask(self, order: WorkOrder) -> int:
        if not survey_may_be_asked(order):
            return 0  # the next round asks, once the closure notice is queued
        if self._calls is not None and self._calls.callable(order):
            return await self._calls.start(order)
        try:
            await self._desk.commit(with_survey(order, at=self._desk.clock.now()))
        except (ConcurrentUpdate, NotFound):
            return 0
        return 1


def configured_policy(settings: WorkOrdersSettings, time_zone: str) -> SlaPolicy:
    """The SLA policy of ``HUB_WORK_ORDERS__*`` in the centre's zone (``HUB_KPI__TIME_ZONE``)."""
    calendar = WorkCalendar(
        zone=ZoneInfo(time_zone), day_start=time.fromisoformat(settings.day_start),
        day_end=time.fromisoformat(settings.day_end), workdays=frozenset(settings.workdays),
        holidays=frozenset(date.fromisoformat(d) for d in settings.holidays),
        extra_workdays=frozenset(date.fromisoformat(d) for d in settings.extra_workdays))
    first = Budget(settings.first_response_days, Unit.WORKING_DAYS)
    by_type = {OrderType.REPAIR: Template(Budget(settings.repair_arrival_min.get(Area.URBAN, 45.0), Unit.MINUTES),
                                          Budget(settings.repair_resolution_h, Unit.HOURS))}
    for kind in OrderType:
        if kind is not OrderType.REPAIR:
            by_type[kind] = Template(first, Budget(settings.resolution_days.get(kind.value, 7.0), Unit.WORKING_DAYS))
    arrival = {area: Budget(settings.repair_arrival_min.get(area.value, DEFAULT_ARRIVAL[area]), Unit.MINUTES)
               for area in Area}
    return SlaPolicy(Templates(by_type=by_type, repair_arrival=arrival), calendar, settings.warn_at_pct)


DEFAULT_ARRIVAL = {area: budget.amount for area, budget in DEFAULT_TEMPLATES.repair_arrival.items()}
