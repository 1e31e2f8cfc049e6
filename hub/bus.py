"""Cross-process fan-out of live facts over Redis pub/sub.

Every hub process publishes what happened (a message, a state change, an offer) as a typed fact
(``hub.domain.events``) and every process, itself included, hands it to its local subscribers (the
WebSockets it holds, the assigner). Delivery is at-most-once: anything a client must not miss is
also in MongoDB and replayed when it reconnects.

A process's own facts go to its subscribers at once, when published (ADR 0074): they do not wait
for the sender's window and Redis's round trip, and are not decoded again when Redis brings them
back (each process marks what it publishes with its origin, ``"o"``, and skips its own). Facts of
other processes arrive through Redis. Each subscriber sees this process's facts in the order they
were published, and every fact after those this process had received when it published them.

Publishing never waits on Redis: ``publish`` encodes the fact, puts it on this process's send
queue and returns, and one sender task sends everything queued in one pipeline, in order; facts
published while a pipeline is in flight go in the next one. ``gather_s`` makes a woken sender wait
that long for more facts first: fewer pipelines, each a Redis round trip paid by both ends, for a
few milliseconds more latency for the other processes (``HUB_BUS__GATHER_MS``, 10 ms, ADRs 0072
and 0074; this class's default, 0, sends at once, as tests that count pipelines expect). While
Redis is away the queue keeps the newest ``MAX_PENDING`` facts (older ones are dropped and
counted), so a customer's acknowledgement never waits for Redis's reconnect attempts.

Receiving: the listener decodes each fact once and puts it on the queue of every subscriber of
its class. Each subscriber has its own bounded queue and task, so a slow or failing one never
delays the others; a full queue drops its oldest fact (counted in ``Subscriber.dropped``).

Subscribed means Redis confirmed the subscription (its ``subscribe`` reply), not that the command
was sent. After a gap (the listener failed and subscribed again, or redis-py reconnected by itself
and re-sent the subscription) every fact published meanwhile is lost, so on each confirmation but
the first the bus hands ``BusResubscribed`` to this process's subscribers of that kind, and they
re-read what they keep live (ADR 0060). ``probe`` fails while the bus is not subscribed (``/readyz``).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from hub.domain.events import BusResubscribed, Fact, FactDecoder, encode
from hub.supervisor import Backoff, Health, Supervisor
from hub.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

CHANNEL = "hub:bus"
MAX_PENDING = 10_000
SEND_BATCH = 500
SEND_GATHER_S = 0.0  # a woken sender waits this long for more facts (the hub sets HUB_BUS__GATHER_MS, ADR 0072)
RETRY_DELAYS_S = (0.05, 0.2, 0.5, 1.0)
LISTENER = "hub:bus"  # the supervised loop that subscribes and dispatches
LISTEN_BACKOFF = Backoff(first_s=0.2, max_s=5.0)
SUBSCRIBER_QUEUE = 10_000  # facts waiting for one subscriber before its oldest is dropped
F = TypeVar("F", bound=Fact)
Handler = Callable[[Any], Awaitable[None]]


class Subscriber:
    """One subscriber: its handlers by fact class, its queue and the task that drains it in order."""

    def __init__(self, name: str, max_queue: int) -> None:
        self.name = name
        self.handlers: dict[type[Fact], Handler] = {}
        self.dropped = 0  # facts lost to a full queue (at most once: its clients resync)
        self._queue: collections.deque[tuple[Handler, Fact]] = collections.deque(maxlen=max_queue)
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def offer(self, fact: Fact, handler: Handler) -> None:
        """Queue without waiting; never raises."""
        if len(self._queue) == self._queue.maxlen:
            self.dropped += 1  # the deque drops the oldest
            if self.dropped == 1 or self.dropped % 1000 == 0:
                logger.warning("bus.subscriber.overflow subscriber=%s dropped=%d", self.name, self.dropped)
        self._queue.append((handler, fact))
        self._wakeup.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"hub:bus:{self.name}")

    @property
    def backlog(self) -> int:
        return len(self._queue)

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue:
                handler, fact = self._queue.popleft()
                try:
                    await handler(fact)
                except Exception:
                    logger.exception("bus.handler.failed subscriber=%s kind=%s", self.name, fact.KIND)

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)


class RedisEventBus:
    """Lifecycle: ``async with bus`` starts the listener and returns once it is subscribed; leaving
    stops it. The listener runs under ``supervisor`` (``hub:bus``: restarted with backoff after
    Redis fails, visible in ``/readyz``); without one the bus keeps a supervisor of its own."""

    def __init__(self, redis: Redis, *, subscriber_queue: int = SUBSCRIBER_QUEUE,
                 supervisor: Supervisor | None = None, gather_s: float = SEND_GATHER_S) -> None:
        self._redis = redis
        self._gather_s = gather_s
        self._supervisor = supervisor or Supervisor()
        self._own_supervisor = supervisor is None
        self._subscriber_queue = subscriber_queue
        self._subscribers: dict[str, Subscriber] = {}
        self._routes: dict[type[Fact], list[tuple[Subscriber, Handler]]] = {}  # per concrete class, cached
        self._decoder = FactDecoder()
        self._origin = secrets.token_hex(6)
        own = f'{{"o":"{self._origin}",'  # every fact this bus publishes starts so
        self._own, self._own_bytes = own, own.encode()
        self._sender: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._pending: collections.deque[str] = collections.deque(maxlen=MAX_PENDING)
        self._wakeup = asyncio.Event()
        self._sent = asyncio.Event()
        self._sent.set()
        self.dropped = 0  # events lost to a full queue or a failed send (at-most-once)
        self.sends = 0  # pipelines handed to Redis (tests and diagnostics)
        self._subscribed = False  # Redis confirmed the subscription and the connection has not dropped since
        self.subscriptions = 0  # confirmed subscriptions since the start; every one after the first followed a gap

    def subscribe(self, kind: type[F], handler: Callable[[F], Awaitable[None]], *,
                  subscriber: str | None = None) -> None:
        """Deliver facts of ``kind`` (and its subclasses) to ``handler``; see ``hub.ports.EventBus``.

        Handlers registered under one ``subscriber`` name share its queue and its order."""
        name = subscriber or f"{getattr(handler, '__qualname__', 'handler')}#{len(self._subscribers)}"
        sub = self._subscribers.get(name)
        if sub is None:
            sub = self._subscribers[name] = Subscriber(name, self._subscriber_queue)
        if kind in sub.handlers:
            raise ValueError(f"subscriber {name} already handles {kind.__name__}")
        sub.handlers[kind] = handler
        self._routes.clear()

    def subscriber(self, name: str) -> Subscriber:
        """A subscriber by name (its backlog and drop count, for health and tests)."""
        return self._subscribers[name]

    @property
    def subscribed(self) -> bool:
        return self._subscribed

    async def probe(self) -> None:
        """Readiness (``/readyz``): raises while the listener is not subscribed, since a fact
        published now would reach no subscriber of this process."""
        if not self._subscribed:
            raise RedisConnectionError("the bus is not subscribed")

    async def publish(self, fact: Fact) -> None:
        """Hand the fact to this process's subscribers and queue it for the others; returns at once
        (never raises for Redis)."""
        if len(self._pending) == MAX_PENDING:
            self.dropped += 1  # the deque drops the oldest
        self._pending.append(encode(fact, self._origin))
        self._sent.clear()
        self._wakeup.set()
        for sub, handler in self._routes_of(type(fact)):
            sub.offer(fact, handler)

    async def flushed(self) -> None:
        """Wait until everything queued so far was handed to Redis (or dropped)."""
        while self._pending or not self._sent.is_set():
            await self._sent.wait()

    async def __aenter__(self) -> RedisEventBus:
        self._supervisor.start(LISTENER, self._listen, backoff=LISTEN_BACKOFF, quiet=(RedisError,))
        self._sender = asyncio.create_task(self._send_loop(), name="hub:bus-sender")
        await asyncio.wait_for(self._ready.wait(), timeout=10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._sender is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):  # a clean stop sends what is queued
                    await self.flushed()
            await cancel_and_wait(self._sender)
        if self._own_supervisor:
            await self._supervisor.stop()
        else:
            await self._supervisor.cancel(LISTENER)
        for sub in self._subscribers.values():
            await sub.stop()

    async def _send_loop(self) -> None:
        failures = 0
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            if self._gather_s and len(self._pending) < SEND_BATCH:
                await asyncio.sleep(self._gather_s)  # let the facts of the next few milliseconds join
            while self._pending:
                batch = [self._pending.popleft() for _ in range(min(SEND_BATCH, len(self._pending)))]
                try:
                    self.sends += 1
                    async with self._redis.pipeline(transaction=False) as pipe:
                        for data in batch:
                            pipe.publish(CHANNEL, data)
                        await pipe.execute()
                    if failures:
                        logger.info("bus.publish.recovered after_failures=%d dropped=%d", failures, self.dropped)
                    failures = 0
                except Exception as err:  # RedisError, or anything else: the sender must survive
                    # At most once: this batch is lost (clients resync from MongoDB), later ones wait.
                    self.dropped += len(batch)
                    failures += 1
                    if failures == 1:
                        logger.warning("bus.publish.failed error=%s dropped=%d", type(err).__name__, len(batch))
                    await asyncio.sleep(RETRY_DELAYS_S[min(failures, len(RETRY_DELAYS_S)) - 1])
            self._sent.set()

    async def _listen(self, health: Health) -> None:
        """Subscribe, then dispatch until cancelled; a failure goes to the supervisor, which logs
        it (one line for Redis errors) and subscribes again after its backoff. Subscribe replies are
        read here: each one is a confirmed (re-)subscription."""
        async with self._redis.pubsub() as pubsub:
            await pubsub.subscribe(CHANNEL)
            connection = pubsub.connection
            assert connection is not None  # subscribe() connected it
            # redis-py reconnects and re-sends the subscription by itself: hear of it (the
            # callback stays on the pooled connection unless taken off).
            connection.register_connect_callback(self._reconnected)
            try:
                async for raw in pubsub.listen():
                    if raw["type"] == "message":
                        self._dispatch(raw["data"])
                    elif raw["type"] == "subscribe":
                        self._confirmed(health)
            finally:
                self._subscribed = False
                connection.deregister_connect_callback(self._reconnected)
        raise RedisConnectionError("the bus subscription ended")  # subscribe again, never "done"

    def _reconnected(self, connection: object) -> None:
        """redis-py's connect callback (a method: it keeps a weak reference): the connection came
        back and re-sent the subscription; not subscribed until Redis confirms it."""
        self._subscribed = False
        logger.warning("bus.listener.reconnected (facts published meanwhile are lost)")

    def _confirmed(self, health: Health) -> None:
        self._subscribed = True
        self.subscriptions += 1
        self._ready.set()
        health.up()
        if self.subscriptions == 1:
            return
        routes = self._routes_of(BusResubscribed)
        logger.info("bus.resubscribed count=%d recovering=%d", self.subscriptions - 1, len(routes))
        fact = BusResubscribed()
        for sub, handler in routes:
            sub.offer(fact, handler)

    def _dispatch(self, data: bytes | str) -> None:
        """Decode once, queue for every subscriber of the fact's class; never waits for a handler.
        This process's own facts were handed over when published."""
        if data.startswith(self._own_bytes) if isinstance(data, bytes) else data.startswith(self._own):
            return
        fact = self._decoder.decode(data)
        if fact is None:
            return  # unknown kind or newer version (logged once per kind by the decoder)
        for sub, handler in self._routes_of(type(fact)):
            sub.offer(fact, handler)

    def _routes_of(self, cls: type[Fact]) -> list[tuple[Subscriber, Handler]]:
        routes = self._routes.get(cls)
        if routes is None:
            routes = []
            for sub in self._subscribers.values():
                # the most specific class a subscriber handles (a CallFact handler gets every call fact)
                handler = next((sub.handlers[k] for k in cls.__mro__ if k in sub.handlers), None)
                if handler is not None:
                    routes.append((sub, handler))
            self._routes[cls] = routes
        return routes
