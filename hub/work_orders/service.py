"""The work-order desk: opens orders from conversations (an agent in the console, or the bot), moves
them on people's actions within ``hub.domain.visibility.work_order_sight``, and after every change
publishes the fact, writes the history into the conversation and queues the customer's notice.

Every change is the pure ``hub.work_orders.model`` applied to the stored order and saved only over
the version it was read at (``ConcurrentUpdate`` otherwise). A notice is first stored on the order
as pending and marked with its message id once queued in the outbox; the SLA sweep
(``hub.work_orders.sweep``) queues any still pending after a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from hub.clock import Clock
from hub.domain.events import WorkOrderChanged
from hub.domain.ids import ContactId, ConversationId, new_id
from hub.domain.model import Agent
from hub.domain.visibility import OrderSight, work_order_sight
from hub.errors import Forbidden, InvalidInput, NotFound
from hub.ports import AgentDesk, ConversationRecords, Directory, EventBus
from hub.storage.work_orders import MongoWorkOrderStore
from hub.work_orders.kinds import OrderType, validated_fields
from hub.work_orders.model import (
    NOTICE_PENDING,
    NOTICE_SENDING,
    HistoryEntry,
    WorkOrder,
    apply,
    new_order,
    pending_notices,
)
from hub.work_orders.notices import notice_text, survey_question
from hub.work_orders.notify import ConversationNotices
from hub.work_orders.states import Action

logger = logging.getLogger(__name__)

HANDLING = frozenset({Action.ACKNOWLEDGE, Action.WAIT_CUSTOMER, Action.RESUME, Action.REPLY})
MANAGING = frozenset({Action.DISPATCH, Action.REDISPATCH, Action.CLOSE, Action.REOPEN})
BOT = "bot"


@dataclass(frozen=True, slots=True)
class OrderFilter:
    state: str | None = None
    department: str | None = None
    breached: bool | None = None
    conversation_id: str | None = None
    limit: int = 100


class WorkOrderDesk:
    def __init__(self, *, store: MongoWorkOrderStore, directory: Directory, desk: AgentDesk,
                 conversations: ConversationRecords, notices: ConversationNotices, bus: EventBus,
                 clock: Clock) -> None:
        self.store = store
        self._conversations = conversations
        self._directory = directory
        self._desk = desk
        self._notices = notices
        self._bus = bus
        self.clock = clock

    async def create(self, viewer: Agent | None, conversation_id: str, kind: OrderType,
                     fields: Mapping[str, object], text: str = "", *, notify: bool = True,
                     order_id: str | None = None) -> WorkOrder:
        """Open an order from a conversation: by ``viewer`` (who must manage orders and see the
        conversation) or, with ``viewer`` None, by the bot. The customer is told its number."""
        cleaned = validated_fields(kind, fields)
        if viewer is not None:
            if OrderSight.MANAGE not in work_order_sight(viewer, None):
                raise Forbidden("only the centre's staff open work orders")
            doc = await self._desk.view(viewer, conversation_id)
        else:
            doc = await self._conversations.get_doc(conversation_id, with_line=False)
        order = new_order(order_id=order_id or new_id("wo"), number=await self.store.next_number(), kind=kind,
                          fields=cleaned,
                          actor=viewer.id if viewer else BOT, at=self.clock.now(),
                          conversation_id=ConversationId(doc["_id"]), contact_id=ContactId(doc["contact_id"]),
                          language=_language(doc), text=text.strip(), notify=notify)
        await self.store.insert(order)
        logger.info("work_orders.created number=%s type=%s by=%s", order.number, kind, order.created_by)
        await self.after_change(order)
        return order

    async def act(self, viewer: Agent, order_id: str, action: Action, *, department: str | None = None,
                  text: str = "") -> WorkOrder:
        order = await self.store.get(order_id)
        sight = work_order_sight(viewer, order.department)
        needed = OrderSight.HANDLE if action in HANDLING else OrderSight.MANAGE if action in MANAGING else None
        if OrderSight.READ not in sight or (needed is not None and needed not in sight):
            raise Forbidden(f"you may not {action} this work order")
        if action is Action.NOTE and not sight & {OrderSight.HANDLE, OrderSight.MANAGE}:
            raise Forbidden("you may not add notes to this work order")
        if department is not None:
            department = (await self._directory.department(department)).id
        changed = apply(order, action, actor=viewer.id, at=self.clock.now(), department=department, text=text)
        if action is Action.REDISPATCH and department == order.department:
            raise InvalidInput("the order is with that department already")
        return await self.commit(changed)

    async def commit(self, order: WorkOrder) -> WorkOrder:
        saved = await self.store.save(order)
        await self.after_change(saved)
        return saved

    async def get(self, viewer: Agent, order_id: str) -> WorkOrder:
        order = await self.store.get(order_id)
        if OrderSight.READ not in work_order_sight(viewer, order.department):
            raise Forbidden("this work order is not yours to see")
        return order

    async def list(self, viewer: Agent, query: OrderFilter) -> list[WorkOrder]:
        department = query.department
        if OrderSight.READ not in work_order_sight(viewer, department):
            if work_order_sight(viewer, viewer.department):  # a department user: her department's only
                department = viewer.department
            else:
                raise Forbidden("work orders are not yours to see")
        orders = await self.store.find(department=department, state=query.state, breached=query.breached,
                                       conversation_id=query.conversation_id, limit=query.limit)
        return [o for o in orders if OrderSight.READ in work_order_sight(viewer, o.department)]

    async def after_change(self, order: WorkOrder) -> None:
        """Mirror the newest entry into the conversation, queue its notice, then tell the consoles
        (and the sweep, which asks a closed order's survey only once the closure notice is queued).
        Nothing here may fail the change, which is stored already."""
        entry = order.history[-1]
        if order.conversation_id is not None:
            try:
                await self._notices.note(order.conversation_id, await self._timeline_text(order, entry))
            except Exception:
                logger.warning("work_orders.note.failed number=%s", order.number, exc_info=True)
            if entry.notice == NOTICE_PENDING:  # this change's own notice; older ones are the sweep's
                await self._deliver_one(order, entry)
        try:
            await self._bus.publish(WorkOrderChanged(
                order_id=order.id, number=order.number, action=entry.action, state=order.state.value,
                version=order.version, department=order.department, conversation_id=order.conversation_id))
        except Exception:
            logger.warning("work_orders.publish.failed number=%s", order.number, exc_info=True)

    async def deliver(self, order: WorkOrder, *, older_than_s: float) -> None:
        """The sweep: queue the notices left unsent on ``order`` for longer than ``older_than_s``."""
        cutoff = self.clock.now() - timedelta(seconds=older_than_s)
        for entry in pending_notices(order):
            if entry.at <= cutoff:
                await self._deliver_one(order, entry)

    async def _deliver_one(self, order: WorkOrder, entry: HistoryEntry) -> None:
        """Claim the entry's notice, queue it in the outbox, record the message id. Never raises:
        the order's change is stored, and the sweep tries again."""
        assert order.conversation_id is not None
        try:
            if not await self.store.mark_notice(order.id, entry.n, expect=entry.notice, value=NOTICE_SENDING):
                return  # another process has it
            text = await self._customer_text(order, entry)
            message_id = "none" if text is None else await self._notices.tell(
                order.conversation_id, text, phone=order.fields.get("phone"))
            await self.store.mark_notice(order.id, entry.n, expect=NOTICE_SENDING, value=message_id)
        except Exception:
            logger.warning("work_orders.notice.failed number=%s entry=%d", order.number, entry.n, exc_info=True)

    async def _customer_text(self, order: WorkOrder, entry: HistoryEntry) -> str | None:
        if entry.action == "survey_sent":
            return survey_question(language=order.language, number=order.number)
        try:
            action = Action(entry.action)
        except ValueError:
            return None
        return notice_text(action, language=order.language, number=order.number,
                           department=await self._department_name(entry.department), text=entry.text)

    async def _timeline_text(self, order: WorkOrder, entry: HistoryEntry) -> str:
        parts = [f"Work order {order.number} ({order.type}): {entry.action.replace('_', ' ')}"]
        if entry.department and entry.action in (Action.DISPATCH, Action.REDISPATCH):
            parts.append(f"to {await self._department_name(entry.department)}")
        if entry.timer:
            parts.append(f"[{entry.timer.replace('_', ' ')}]")
        if entry.text:
            parts.append(f"- {entry.text}")
        return " ".join(parts)

    async def _department_name(self, department_id: str | None) -> str:
        if not department_id:
            return ""
        try:
            return (await self._directory.department(department_id)).name
        except NotFound:
            return department_id


def _language(conversation: Mapping[str, object]) -> str:
    """The customer's language: what the bot read in their words (the handover's), else the conversation's."""
    handover = conversation.get("handover")
    spoken = handover.get("language") if isinstance(handover, Mapping) else None
    return str(spoken or conversation.get("language") or "en")
