"""The outbox worker: hands queued staff messages to their channel adapters, with retries.

Every hub process runs one. A message this process queues is stored already claimed by it
(``claim_new``) and sent at once (``dispatch``), without a round trip through the queue; the
worker polls for the rest (retries coming due, leases of a dead process running out).
Sending is bounded in parallel; a slow channel never blocks the others for longer than its own
sends. Within one conversation, messages leave in the order they were queued: each waits until the
channel took the message before it (its lane), so a customer never reads a survey question before
the notice it follows, or an agent's second line before her first. A send holds its slot and its
lane only until the channel answered: what it answered is written after (gathered for 20 ms with
other sends' outcomes, ``hub.storage.outbox_states``) without holding up the next send.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from hub.clock import Clock
from hub.domain.events import StatusChanged
from hub.domain.ids import Author, ConversationId, DeliveryStatus, MessageId
from hub.domain.model import Attachment, Message
from hub.domain.outbound import Outbound, SendResult, next_attempt_delay, thread_context
from hub.errors import ChannelSendError
from hub.ports import AttachmentFiles, ChannelSender, EventBus
from hub.storage.message_docs import message_to_doc
from hub.storage.outbox import SENDING, MongoOutboxStore
from hub.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

MAX_TOLD = 10_000  # messages whose last told status this process remembers (oldest forgotten first)
CLAIM_BATCH = 100  # entries claimed at most at once (bounded by the free send slots)
MAX_SENT = 10_000  # provider ids of this process's recent sends, for their delivery reports (oldest forgotten first)


class SendTurn:
    """A send's hold on one of the outbox's slots and on its conversation's lane, given up once:
    when the channel answered (the next message of the conversation may leave; writing what the
    channel said needs neither), or when the send ends any other way."""

    def __init__(self, slots: asyncio.Semaphore, handed: asyncio.Future[None]) -> None:
        self._slots = slots
        self._handed = handed
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._slots.release()
            if not self._handed.done():
                self._handed.set_result(None)


class Outbox:
    """Owns its loop between ``__aenter__`` and ``__aexit__``."""

    def __init__(self, *, store: MongoOutboxStore, senders: Mapping[str, ChannelSender], bus: EventBus,
                 clock: Clock, poll_s: float = 1.0, lease_s: float = 60.0, parallel: int = 16,
                 shutdown_grace_s: float = 3.0, files: AttachmentFiles | None = None,
                 on_sent: Callable[[Mapping[str, Any], list[str]], None] | None = None) -> None:
        self._store = store
        self._files = files  # the bytes of a message's attachments (an agent's file to e-mail)
        self._senders = dict(senders)
        self._on_sent = on_sent  # told each send the channel took, with its provider ids (KnownRoutes.sent)
        self._bus = bus
        self._clock = clock
        self._poll_s = poll_s
        self._told: dict[str, int] = {}  # message id -> rank of the status last told
        # (channel, provider id) -> what a delivery report needs of the message this process sent:
        # the report usually comes back to the process that sent it, and then costs no read.
        self._sent: dict[tuple[str, str], dict[str, Any]] = {}
        self._lease_s = lease_s
        self._shutdown_grace_s = shutdown_grace_s
        self._slots = asyncio.Semaphore(parallel)
        self._sending: set[asyncio.Task[None]] = set()
        self._lanes: dict[str, asyncio.Future[None]] = {}  # conversation id -> its latest send, handed over
        self._task: asyncio.Task[None] | None = None

    def sender(self, channel: str) -> ChannelSender:
        """The adapter that sends ``channel``'s messages (KeyError when the channel is off)."""
        return self._senders[channel]

    def claim_new(self) -> dict[str, Any]:
        """The outbox entry of a message this process is about to store: claimed by this process
        (if it dies before sending, the lease runs out and any process sends it)."""
        now = self._clock.now()
        return {"state": SENDING, "due_at": now, "attempts": 1,
                "lease_until": now + timedelta(seconds=self._lease_s)}

    def dispatch(self, message: Message, entry: Mapping[str, Any]) -> None:
        """Send a message stored with ``claim_new``'s entry, now, in the background."""
        doc = {**message_to_doc(message), "outbox": dict(entry)}
        self._start(doc, holding_slot=False)

    def _start(self, doc: Mapping[str, Any], *, holding_slot: bool) -> None:
        """Send ``doc`` in the background, once the channel took the conversation's previous message."""
        conversation_id = str(doc["conversation_id"])
        before = self._lanes.get(conversation_id)
        handed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._lanes[conversation_id] = handed
        task = asyncio.create_task(self._in_lane(doc, before, handed, holding_slot), name=f"outbox:{doc['_id']}")
        self._sending.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._sending.discard(finished)
            if not handed.done():  # cancelled before its turn: the next one goes
                handed.set_result(None)
            if self._lanes.get(conversation_id) is handed:
                del self._lanes[conversation_id]
        task.add_done_callback(done)

    async def _in_lane(self, doc: Mapping[str, Any], before: asyncio.Future[None] | None,
                       handed: asyncio.Future[None], holding_slot: bool) -> None:
        if before is not None and not before.done():
            if holding_slot:  # never hold a slot while waiting: the send before may need one
                self._slots.release()
            await asyncio.wait([before])
            holding_slot = False
        if not holding_slot:
            await self._slots.acquire()
        await self._send(doc, SendTurn(self._slots, handed))

    async def __aenter__(self) -> Outbox:
        await self._store.states.__aenter__()
        self._task = asyncio.create_task(self._run(), name="hub:outbox")
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop claiming, give the sends in flight a moment to finish, then cancel the rest (their
        leases run out and another process sends them again)."""
        if self._task is not None:
            await cancel_and_wait(self._task)
        if self._sending:
            await asyncio.wait(set(self._sending), timeout=self._shutdown_grace_s)
        for task in list(self._sending):
            await cancel_and_wait(task)
        await self._store.states.__aexit__(*exc)

    async def _run(self) -> None:
        while True:
            try:
                claimed = await self._claim_all()
            except Exception:
                logger.warning("outbox.claim.failed", exc_info=True)
                claimed = 0
            if claimed:
                continue
            await asyncio.sleep(self._poll_s)

    async def _claim_all(self) -> int:
        """Claim due entries in batches as large as the free send slots (one read-claim-read each)."""
        claimed = 0
        while True:
            await self._slots.acquire()
            free = 1
            while free < CLAIM_BATCH and not self._slots.locked():
                await self._slots.acquire()  # free: returns at once
                free += 1
            try:
                docs = await self._store.claim_due(self._clock.now(), lease_s=self._lease_s, limit=free)
            except BaseException:
                for _ in range(free):
                    self._slots.release()
                raise
            for _ in range(free - len(docs)):
                self._slots.release()
            for doc in docs:
                self._start(doc, holding_slot=True)
            claimed += len(docs)
            if len(docs) < free:
                return claimed

    async def _send(self, doc: Mapping[str, Any], turn: SendTurn) -> None:
        try:
            await self._deliver(doc, turn)
        except Exception:  # a store hiccup: the lease runs out and another attempt follows
            logger.exception("outbox.send.crashed id=%s", doc["_id"])
        finally:
            turn.release()

    async def _deliver(self, doc: Mapping[str, Any], turn: SendTurn) -> None:
        attempt = int(doc["outbox"]["attempts"])
        sender = self._senders.get(doc["channel"])
        if sender is None:
            await self._fail(doc, f"no adapter for channel {doc['channel']}")
            return
        carried = doc["outbox"].get("thread")  # the route's thread, stored with the entry: no read
        thread = (dict(carried) if isinstance(carried, Mapping)
                  else thread_context(await self._store.thread_of(doc["conversation_id"], doc["channel"])))
        files = await self._attachments(doc)
        if files is None:
            await self._fail(doc, "an attached file is no longer stored")
            return
        outbound = Outbound(
            message_id=MessageId(doc["_id"]), conversation_id=ConversationId(doc["conversation_id"]),
            channel=doc["channel"], address=doc["address"], text=doc["text"], author_name=doc.get("author_name", ""),
            buttons=tuple(doc.get("buttons", ())), thread=thread, attempt=attempt, files=files)
        # A report may name our own message id (Kannel's ref) and come back before the channel's
        # answer, or before the send's state is stored: known from here on, it costs no read.
        self._remember(str(doc["channel"]), [str(doc["_id"])], doc, DeliveryStatus(doc["status"]))
        try:
            result: SendResult = await sender.send(outbound)
        except ChannelSendError as err:
            turn.release()
            self._forget(str(doc["channel"]), str(doc["_id"]))
            delay = next_attempt_delay(attempt) if err.retryable else None
            if delay is None:
                await self._fail(doc, str(err))
                return
            delay = max(delay, err.retry_after_s or 0.0)
            logger.info("outbox.retry id=%s channel=%s attempt=%d in_s=%.0f", doc["_id"], doc["channel"],
                        attempt, delay)
            await self._store.retry(doc["_id"], self._clock.now() + timedelta(seconds=delay), str(err))
            return
        turn.release()  # the channel took it: the conversation's next message may leave
        self._remember(str(doc["channel"]), list(result.provider_ids), doc, result.status)
        await self._store.sent(doc["_id"], list(result.provider_ids), result.status, DeliveryStatus(doc["status"]))
        if self._on_sent is not None:
            self._on_sent(doc, list(result.provider_ids))
        await self._status(doc, result.status)
        logger.info("outbox.sent id=%s channel=%s attempt=%d", doc["_id"], doc["channel"], attempt)

    async def _attachments(self, doc: Mapping[str, Any]) -> tuple[Attachment, ...] | None:
        """The message's files with their bytes; None when one is gone (the send fails for good)."""
        files: list[Attachment] = []
        for ref in doc.get("attachments", ()):
            stored = await self._files.file(ref["id"]) if self._files is not None else None
            if stored is None:
                return None
            files.append(Attachment(filename=stored.filename, content_type=stored.content_type, data=stored.data))
        return tuple(files)

    async def delivery_report(self, channel: str, provider_id: str, status: DeliveryStatus) -> bool:
        """A provider's report on a message we sent (Kannel DLR): statuses only move forward.
        Returns False for an id we do not know (a late report of a purged message, or a forgery)."""
        doc = self._sent.get((channel, provider_id)) or await self._store.by_provider_id(channel, provider_id)
        if doc is None:
            return False
        await self._store.advance(doc["_id"], status)
        await self._status(doc, status)
        return True

    def _remember(self, channel: str, provider_ids: list[str], doc: Mapping[str, Any],
                  status: DeliveryStatus) -> None:
        known = {"_id": doc["_id"], "conversation_id": doc["conversation_id"], "author": doc["author"],
                 "status": status.value}
        for provider_id in provider_ids:
            self._sent[(channel, provider_id)] = known
        while len(self._sent) > MAX_SENT:
            del self._sent[next(iter(self._sent))]

    def _forget(self, channel: str, message_id: str) -> None:
        """A send the channel refused: a report naming it is not taken on this process's word."""
        self._sent.pop((channel, message_id), None)

    async def _fail(self, doc: Mapping[str, Any], error: str) -> None:
        logger.warning("outbox.failed id=%s channel=%s error=%s", doc["_id"], doc["channel"], error[:200])
        await self._store.failed(doc["_id"], error)
        await self._status(doc, DeliveryStatus.FAILED)

    async def _status(self, doc: Mapping[str, Any], status: DeliveryStatus) -> None:
        """Tell a status this process has not told yet for the message (forward only). The batched
        state writes do not say whether a status moved, so this process remembers what it told
        (another process may tell one twice: consoles keep the further of two statuses)."""
        message_id = str(doc["_id"])
        stored = DeliveryStatus(doc["status"]).rank() if doc.get("status") else -1  # as read before the change
        if status.rank() <= max(self._told.get(message_id, -1), stored):
            return
        self._told.pop(message_id, None)
        self._told[message_id] = status.rank()
        if len(self._told) > MAX_TOLD:
            del self._told[next(iter(self._told))]
        with contextlib.suppress(Exception):  # the bus is at-most-once; consoles resync on reconnect
            await self._bus.publish(StatusChanged(conversation_id=ConversationId(doc["conversation_id"]),
                                                  message_id=MessageId(doc["_id"]), status=status,
                                                  author=Author(doc["author"])))
