"""The outage notice sender: a durable, resumable job that texts every contact of a notice once,
at the configured rate, and records Kannel's delivery reports (ADR 0036).

One process runs it (a supervised loop under a lease). A notice is first *prepared*: one entry
per contact in ``outage_sends``, numbered in a fixed order (``seq``; the id is derived from it;
a unique index on notice and contact; a crash half-way resumes and inserts the rest). Then the
entries go out in ``seq`` order, in batches the rate allows. Before a batch is handed to Kannel
the notice records it as ``inflight``; once Kannel took all of it, ``cursor`` moves past it.
Everything before ``cursor`` is settled. After a crash the next holder looks at the one batch that
was in flight: an entry with a delivery report (or marked accepted) reached Kannel; one with
neither ``reconcile_s`` after the batch started never did and goes again. So nothing is sent
twice and every contact gets the notice, as far as Kannel's reports tell (Kannel cannot
deduplicate). Two database writes per batch, one per delivery report.

A notice can be cancelled from any process (``OutageDesk.cancel_notice``: its state becomes
``cancelled``). Every batch is recorded in flight only while the notice is ``sending``, so the sender
stops before its next batch with no extra read; what Kannel already took stays sent (``cursor``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hub.clock import Clock
from hub.domain.events import BusResubscribed, OutageNoticeStarted
from hub.domain.ids import ConversationId, DeliveryStatus, MessageId
from hub.domain.outages import allowance, paced_origin, send_id
from hub.domain.outbound import Outbound
from hub.errors import ChannelSendError
from hub.ports import ChannelSender, DeliveryReports, EventBus
from hub.storage.outages import MongoOutageStore
from hub.supervisor import Health

logger = logging.getLogger(__name__)

SEND_PREFIX = "ns_"  # notice SMS ids (hub.domain.outages.send_id): how their reports find their way
PREPARE_CHUNK = 1_000
WINDOW = 500  # entries read at once
INFLIGHT_CHECK_S = 1.0  # a dead process's batch in flight: how often its reports are looked at
SUBSCRIBER = "outages:notices"
RETRY_AFTER_S = 1.0


def settled(doc: Mapping[str, Any]) -> bool:
    """Kannel had it (a report came back, or its 202 was recorded) or refused it for good."""
    return bool(doc.get("dlrs") or doc.get("accepted_at") or doc.get("error"))


@dataclass(frozen=True, slots=True)
class Pace:
    rate_per_s: float
    burst: int  # at most this many at once (a tenth of a second's worth)
    reconcile: timedelta
    poll_s: float


class NoticeSender:
    def __init__(self, *, store: MongoOutageStore, sender: ChannelSender, clock: Clock, rate_per_s: float,
                 reconcile_s: float, poll_s: float) -> None:
        self._store = store
        self._sender = sender
        self._clock = clock
        self._pace = Pace(rate_per_s=rate_per_s, burst=max(1, int(rate_per_s / 10)),
                          reconcile=timedelta(seconds=reconcile_s), poll_s=poll_s)
        self._wake = asyncio.Event()

    def listen(self, bus: EventBus) -> None:
        """A notice started in any process (``OutageNoticeStarted``) is looked for now; after a bus
        gap (``BusResubscribed``: a fact may have been lost) too. Otherwise every ``poll_s``."""
        bus.subscribe(OutageNoticeStarted, self._on_started, subscriber=SUBSCRIBER)
        bus.subscribe(BusResubscribed, self._on_resubscribed, subscriber=SUBSCRIBER)

    def wake(self) -> None:
        """Look now rather than at the next poll (only the lease holder's loop is waiting)."""
        self._wake.set()

    async def _on_started(self, fact: OutageNoticeStarted) -> None:
        self.wake()

    async def _on_resubscribed(self, fact: BusResubscribed) -> None:
        self.wake()

    async def run(self, health: Health) -> None:
        """The supervised loop: prepare and send whatever notices are open, then wait."""
        health.up()
        while True:
            for notice in await self._store.notices_in("preparing"):
                await self._prepare(notice)
            for notice in await self._store.notices_in("sending"):
                await _Run(self._store, self._sender, self._clock, self._pace, notice).send_all()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._pace.poll_s)

    async def _prepare(self, notice: Mapping[str, Any]) -> None:
        recipients = await self._store.recipients(notice["area"])
        for start in range(0, len(recipients), PREPARE_CHUNK):
            chunk = recipients[start:start + PREPARE_CHUNK]
            await self._store.add_sends([
                {"_id": send_id(notice["key"], start + i), "notice_id": notice["_id"], "contact_id": contact_id,
                 "address": phone, "seq": start + i} for i, (contact_id, phone) in enumerate(chunk)])
        if not await self._store.set_notice_if(notice["_id"], "preparing", state="sending", total=len(recipients),
                                               cursor=0, inflight=None, prepared_at=self._clock.now()):
            logger.info("outages.notice.cancelled id=%s sent=0", notice["_id"])
            return
        logger.info("outages.notice.prepared id=%s recipients=%d", notice["_id"], len(recipients))

    async def delivery_report(self, channel: str, provider_id: str, status: DeliveryStatus) -> bool:
        """Kannel's report on one notice SMS, appended to its entry (False: unknown id, Kannel retries)."""
        return await self._store.record_report(provider_id, status.value, self._clock.now())


class _Cancelled(Exception):
    """The notice was cancelled (in any process) before the next batch went out."""


class _Run:
    """One notice being sent by this process, from its cursor to the end, or until it is cancelled."""

    def __init__(self, store: MongoOutageStore, sender: ChannelSender, clock: Clock, pace: Pace,
                 notice: Mapping[str, Any]) -> None:
        self._store = store
        self._sender = sender
        self._clock = clock
        self._pace = pace
        self._notice = notice
        self._id: str = notice["_id"]
        self._total: int = notice.get("total", 0)
        self._cursor: int = notice.get("cursor", 0)
        self._next: int = self._cursor  # the next seq to read into the buffer
        self._buffer: deque[dict[str, Any]] = deque()

    async def send_all(self) -> None:
        if self._notice.get("inflight"):
            await self._settle_inflight(self._notice["inflight"])
        loop = asyncio.get_running_loop()
        pace, began, sent = self._pace, loop.time(), 0
        while await self._fill():
            now = loop.time()
            began = paced_origin(began_s=began, now_s=now, sent=sent, rate_per_s=pace.rate_per_s, burst=pace.burst)
            due = allowance(rate_per_s=pace.rate_per_s, elapsed_s=now - began, sent=sent, burst=pace.burst)
            if not due:
                await asyncio.sleep(max(1.0 / pace.rate_per_s, 0.01))
                continue
            batch = [self._buffer.popleft() for _ in range(min(due, len(self._buffer)))]
            sent += len(batch)
            try:
                if not await self._send_batch(batch):
                    await asyncio.sleep(RETRY_AFTER_S)
                    began, sent = loop.time(), 0
            except _Cancelled:
                logger.info("outages.notice.cancelled id=%s sent=%d", self._id, self._cursor)
                return
        if await self._store.set_notice_if(self._id, "sending", state="done", cursor=self._total, inflight=None,
                                           done_at=self._clock.now()):
            logger.info("outages.notice.done id=%s", self._id)

    async def _fill(self) -> bool:
        """Read the next window of unsettled entries when the buffer is empty; False at the end."""
        while not self._buffer and self._next < self._total:
            end = min(self._next + WINDOW, self._total)
            ids = [send_id(self._notice["key"], seq) for seq in range(self._next, end)]
            self._buffer.extend(doc for doc in await self._store.sends(ids) if not settled(doc))
            self._next = end
        return bool(self._buffer)

    async def _settle_inflight(self, inflight: Mapping[str, Any]) -> None:
        """The batch a dead process had in flight: wait for its reports up to ``reconcile_s`` after it
        started; the entries still without one never reached Kannel (they go again, from the buffer)."""
        ids = [send_id(self._notice["key"], seq) for seq in range(inflight["from"], inflight["to"])]
        deadline = inflight["at"] + self._pace.reconcile
        while self._clock.now() < deadline:
            if all(settled(doc) for doc in await self._store.sends(ids)):
                break
            await asyncio.sleep(INFLIGHT_CHECK_S)
        unsettled = [doc["_id"] for doc in await self._store.sends(ids) if not settled(doc)]
        logger.info("outages.notice.resumed id=%s cursor=%d resending=%d", self._id, self._cursor, len(unsettled))

    async def _send_batch(self, batch: list[dict[str, Any]]) -> bool:
        """Send one batch concurrently; False when Kannel could not take some (they go back first)."""
        store, now = self._store, self._clock.now()
        # The batch is recorded in flight only while the notice is sending: a cancel stops it here.
        if not await store.set_notice_if(self._id, "sending",
                                         inflight={"from": batch[0]["seq"], "to": batch[-1]["seq"] + 1, "at": now}):
            raise _Cancelled
        results = await asyncio.gather(*(self._send_one(doc) for doc in batch))
        retry = [doc for doc, err in zip(batch, results, strict=True) if err is not None and err.retryable]
        for doc, err in zip(batch, results, strict=True):
            if err is not None and not err.retryable:
                logger.warning("outages.notice.refused id=%s send=%s error=%s", self._id, doc["_id"], str(err)[:120])
                await store.mark_failed(doc["_id"], str(err)[:200], now)
        if retry:
            accepted = [doc["_id"] for doc, err in zip(batch, results, strict=True) if err is None]
            await store.mark_accepted(accepted, now)
            self._buffer.extendleft(reversed(retry))
            logger.warning("outages.notice.kannel_unavailable id=%s retrying=%d", self._id, len(retry))
            return False
        self._cursor = batch[-1]["seq"] + 1
        await store.set_notice(self._id, cursor=self._cursor, inflight=None)
        return True

    async def _send_one(self, doc: Mapping[str, Any]) -> ChannelSendError | None:
        outbound = Outbound(message_id=MessageId(doc["_id"]), conversation_id=ConversationId(self._id),
                            channel="sms", address=doc["address"], text=self._notice["text"], author_name="")
        try:
            await self._sender.send(outbound)
        except ChannelSendError as err:
            return err
        return None


class DeliveryRouter:
    """``DeliveryReports`` for the SMS channel's DLR endpoint: notice SMS to the notice sender,
    every other message to the outbox."""

    def __init__(self, outbox: DeliveryReports, notices: DeliveryReports | None) -> None:
        self._outbox = outbox
        self._notices = notices

    async def delivery_report(self, channel: str, provider_id: str, status: DeliveryStatus) -> bool:
        if self._notices is not None and provider_id.startswith(SEND_PREFIX):
            return await self._notices.delivery_report(channel, provider_id, status)
        return await self._outbox.delivery_report(channel, provider_id, status)
