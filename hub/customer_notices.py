"""The customer kept informed (issue 16 item 6): a durable consumer of the event table that tells
the customer, in their language, on their channel, when a human takes over and when it is resolved.

On a handover (``handed_over`` or ``queued`` into a queue) the customer hears "connecting you to an
agent" with the queue position when the conversation still waits in Redis, or, when the queue is
outside its business hours, when it opens. On an agent's resolve, a closing line. The decisions are
``hub.domain.customer_notices`` and ``hub.domain.business_hours`` (pure); this is the I/O around
them. Messages go the normal outbound way (``Outgoing``: pushed live on web chat, the outbox for
SMS, e-mail and Telegram). At least once like every durable consumer: a crash between sending and
the checkpoint may say one notice twice; events older than ``max_age`` are passed over, so a new
hub (or a rebuild) does not talk to the whole history.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hub.conversations.core import ConversationCore
from hub.conversations.outgoing import Outgoing
from hub.domain.business_hours import OpeningHours, is_open, next_opening, parse_weekly
from hub.domain.customer_notices import Waiting, expected_minutes, handover_text, notice_language, should_tell, text_of
from hub.domain.events import MessageStored
from hub.domain.ids import Author, DeliveryStatus, MessageId, new_id
from hub.domain.model import Conversation, Message, Queue
from hub.domain.states import ConversationState
from hub.domain.stream import StoredEvent
from hub.errors import NotFound
from hub.ports import AnswerTimes, Directory, Waits
from hub.wire import message_json

logger = logging.getLogger(__name__)

NOTICE_AUTHOR = "Northgrid customer service"
POSITION_TRIES = 3
POSITION_RETRY_S = 0.1


@dataclass(frozen=True, slots=True, kw_only=True)
class NoticeConfig:
    """What the notices need of ``hub.config.NoticeSettings`` and the centre's calendar."""

    zone: ZoneInfo
    holidays: frozenset[date]
    extra_workdays: frozenset[date]
    texts: Mapping[str, Mapping[str, str]]
    max_age: timedelta
    wait_window: timedelta = timedelta(hours=1)  # the answers an expected wait is averaged over

    def hours_of(self, queue: Queue) -> OpeningHours:
        return OpeningHours(zone=self.zone, windows=parse_weekly(queue.hours), holidays=self.holidays,
                            extra_workdays=self.extra_workdays)


class CustomerNotices:
    """``hub.consumers.DurableConsumer`` named ``customer_notices``; also answers the widget's
    question whether a queue can take a chat now (``availability``)."""

    name = "customer_notices"

    def __init__(self, *, core: ConversationCore, outgoing: Outgoing, directory: Directory, waits: Waits,
                 config: NoticeConfig, answers: AnswerTimes | None = None) -> None:
        self._core = core
        self._answers = answers
        self._outgoing = outgoing
        self._directory = directory
        self._waits = waits
        self._config = config

    async def handle(self, batch: Sequence[StoredEvent]) -> None:
        oldest = self._core.clock.now() - self._config.max_age
        for event in batch:
            kind = should_tell(event_type=event.type, from_state=event.from_state, to_state=event.to_state,
                               channel=event.channel)
            if kind is None or event.at < oldest:
                continue
            try:
                conversation = await self._core.conversations.get(event.conversation_id)
            except NotFound:
                continue
            last = await self._core.messages.last_inbound(conversation.id)
            language = notice_language(conversation.language, last.text if last else None)
            if kind == "resolved":
                text = text_of(language, "resolved", self._config.texts)
            else:
                text = handover_text(language, await self._waiting(conversation, event.queue),
                                     self._config.zone, self._config.texts)
            await self._say(conversation, text)
            logger.info("notices.told conv=%s kind=%s channel=%s", conversation.id, kind, event.channel)

    async def reset(self) -> None:
        """Nothing to drop: what was said was said. A replay says nothing old (``max_age``)."""
        logger.warning("notices.reset (nothing kept; old events are passed over)")

    async def availability(self, queue_id: str) -> tuple[bool, bool, datetime | None]:
        """(open now, an agent with the queue's skills available, the next opening when closed)."""
        try:
            queue = await self._directory.queue(queue_id)
        except NotFound:
            return True, await self._waits.staffed(frozenset()), None
        hours = self._config.hours_of(queue)
        now = self._core.clock.now()
        if not is_open(hours, now):
            return False, False, next_opening(hours, now)
        return True, await self._waits.staffed(queue.skills), None

    async def _waiting(self, conversation: Conversation, queue_id: str | None) -> Waiting:
        queue_id = queue_id or conversation.queue
        if queue_id is None:
            return Waiting()
        try:
            queue = await self._directory.queue(queue_id)
        except NotFound:
            queue = None
        now = self._core.clock.now()
        if queue is not None and not is_open(hours := self._config.hours_of(queue), now):
            return Waiting(opens=next_opening(hours, now))
        # The transition is stored before the conversation enters Redis's queue (hub/conversations/
        # transitions.py): a consumer woken at once may look a moment too early.
        minutes = None
        if self._answers is not None:
            answered, wait_ms = await self._answers.answer_times(queue_id, now - self._config.wait_window, now)
            minutes = expected_minutes(answered, wait_ms)
        for _ in range(POSITION_TRIES if conversation.state is ConversationState.QUEUED else 1):
            position = await self._waits.position(queue_id, conversation.id)
            if position is not None:
                return Waiting(position=position, minutes=minutes)
            await asyncio.sleep(POSITION_RETRY_S)
        return Waiting()  # offered already, or gone: nothing to say about waiting

    async def _say(self, conversation: Conversation, text: str) -> None:
        route = await self._outgoing.route(conversation)
        message = await self._outgoing.store(Message(
            id=MessageId(new_id("m")), conversation_id=conversation.id, channel=route.channel, author=Author.SYSTEM,
            author_id="notices", author_name=NOTICE_AUTHOR, text=text, sent_at=self._core.clock.now(),
            status=DeliveryStatus.SENT, address=route.address), thread=route.thread)
        await self._core.tell(MessageStored(conversation_id=conversation.id, holder=conversation.agent_id,
                                            message=message_json(message, live=self._core.live)))
