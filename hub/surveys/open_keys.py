"""Which customer addresses may be answering a survey, known to the process (ADR 0058).

Every message on a store-and-forward channel (SMS, e-mail, Telegram) was first looked up in
``surveys`` (is a survey open for this address, or did one take this very message before?): one
query per inbound message, although almost no address has a survey. This keeps the digests
(``hub.domain.surveys.key_digest``) of the addresses asked a survey that has not expired, with
its ``expires_at``; only a message from one of them is looked up (``MongoSurveyStore.find_by_key``).

Where the digests come from:

* a survey asked by this process is added before its question is marked asked
  (``SurveyService.offer``), so the answer can never arrive before it is known here;
* a ``SurveyAsked`` fact (another process asked) adds it at once;
* the collection itself, read on first use and again at most every ``reread_s`` when asked (a
  quiet hub reads nothing): the bus is at most once, and a lost fact is made good by then; after a
  gap in the bus's subscription (``BusResubscribed``, ADR 0060) the next message reads it at once.

A digest stays until its survey would expire, whatever the survey's state (answered, stopped):
a provider's redelivery of the message that answered it is still recognised as a repeat.

What staleness is possible: a survey asked by another process whose fact was lost, answered
within ``reread_s`` of being asked (the question must first reach the customer's phone), is read
as an ordinary message: it reaches the conversation's inbox instead of scoring it. Nothing is lost.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime

from hub.domain.events import BusResubscribed, SurveyAsked
from hub.domain.surveys import key_digest
from hub.ports import EventBus
from hub.storage.surveys import MongoSurveyStore

SUBSCRIBER = "surveys:open"


class OpenSurveyKeys:
    def __init__(self, store: MongoSurveyStore, *, reread_s: float,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._reread_s = reread_s
        self._monotonic = monotonic
        self._expiries: dict[str, datetime] = {}  # key digest -> latest expires_at
        self._read_at: float | None = None
        self._reading: asyncio.Future[None] | None = None  # the read in flight, shared by its waiters
        self.reads = 0  # reads of the collection (tests and the benchmark count them)

    def listen(self, bus: EventBus) -> None:
        bus.subscribe(SurveyAsked, self._on_asked, subscriber=SUBSCRIBER)
        bus.subscribe(BusResubscribed, self._on_resubscribed, subscriber=SUBSCRIBER)

    def asked(self, key: str, expires_at: datetime) -> str:
        """A survey for ``key`` is asked (this process); returns its digest for the fact."""
        digest = key_digest(key)
        self._add(digest, expires_at)
        return digest

    def knows(self, key: str) -> bool:
        """Whether a survey asked of ``key`` is known here (tests and diagnostics)."""
        return key_digest(key) in self._expiries

    async def may_answer(self, key: str, now: datetime) -> bool:
        """Whether a message from ``key`` may answer (or repeat an answer to) a survey; False means
        no survey can take it and nothing need be looked up."""
        if self._read_at is None or self._monotonic() - self._read_at > self._reread_s:
            await self._read_once(now)
        expires_at = self._expiries.get(key_digest(key))
        return expires_at is not None and _naive(expires_at) > _naive(now)

    async def _read_once(self, now: datetime) -> None:
        """One read for every message that finds the map due (a burst at start-up reads once)."""
        if self._reading is None:
            self._reading = asyncio.ensure_future(self._read(now))
            self._reading.add_done_callback(self._read_done)
        await asyncio.shield(self._reading)

    def _read_done(self, reading: asyncio.Future[None]) -> None:
        self._reading = None
        if not reading.cancelled():
            reading.exception()  # retrieved here; each waiter gets it raised too

    async def _read(self, now: datetime) -> None:
        started = self._monotonic()
        self.reads += 1
        for key, expires_at in await self._store.asked_keys(now):
            self._add(key_digest(key), expires_at)
        self._read_at = started
        for digest in [d for d, at in self._expiries.items() if _naive(at) <= _naive(now)]:
            del self._expiries[digest]

    def _add(self, digest: str, expires_at: datetime) -> None:
        known = self._expiries.get(digest)
        if known is None or _naive(known) < _naive(expires_at):
            self._expiries[digest] = expires_at

    async def _on_resubscribed(self, fact: BusResubscribed) -> None:
        self._read_at = None  # facts were lost: the next message reads the collection again

    async def _on_asked(self, fact: SurveyAsked) -> None:
        self._add(fact.key_digest, fact.expires_at)


def _naive(at: datetime) -> datetime:
    """MongoDB hands datetimes back naive (UTC); the clock and the facts are aware."""
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo is not None else at
