"""Cross-process event fan-out over Redis pub/sub.

Every hub process publishes what happened (a message, a state change, an offer) and every
process, itself included, receives it and hands it to its local subscribers (the WebSockets it
holds, the assigner). Delivery is at-most-once: anything a client must not miss is also in
MongoDB and replayed when it reconnects.

Publishing never waits on Redis: ``publish`` puts the event on this process's send queue and
returns, and one sender task sends everything queued in one pipeline, in order. While Redis is
away the queue keeps the newest ``MAX_PENDING`` events (older ones are dropped and counted), so a
customer's acknowledgement never waits for Redis's reconnect attempts.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hub.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

CHANNEL = "hub:bus"
MAX_PENDING = 10_000
SEND_BATCH = 500
RETRY_DELAYS_S = (0.05, 0.2, 0.5, 1.0)
Handler = Callable[[Mapping[str, Any]], Awaitable[None]]


class RedisEventBus:
    """Lifecycle: ``async with bus`` subscribes and starts the listener; leaving stops it."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._handlers: list[Handler] = []
        self._task: asyncio.Task[None] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._pending: collections.deque[str] = collections.deque(maxlen=MAX_PENDING)
        self._wakeup = asyncio.Event()
        self._sent = asyncio.Event()
        self._sent.set()
        self.dropped = 0  # events lost to a full queue or a failed send (at-most-once)

    def subscribe(self, handler: Handler) -> None:
        self._handlers.append(handler)

    async def publish(self, event: Mapping[str, Any]) -> None:
        """Queue the event for every process; returns at once (never raises for Redis)."""
        if len(self._pending) == MAX_PENDING:
            self.dropped += 1  # the deque drops the oldest
        self._pending.append(json.dumps(event, separators=(",", ":"), default=str))
        self._sent.clear()
        self._wakeup.set()

    async def flushed(self) -> None:
        """Wait until everything queued so far was handed to Redis (or dropped)."""
        while self._pending or not self._sent.is_set():
            await self._sent.wait()

    async def __aenter__(self) -> RedisEventBus:
        self._task = asyncio.create_task(self._listen(), name="hub:bus")
        self._sender = asyncio.create_task(self._send_loop(), name="hub:bus-sender")
        await asyncio.wait_for(self._ready.wait(), timeout=10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._sender is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):  # a clean stop sends what is queued
                    await self.flushed()
            await cancel_and_wait(self._sender)
        if self._task is not None:
            await cancel_and_wait(self._task)

    async def _send_loop(self) -> None:
        failures = 0
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                batch = [self._pending.popleft() for _ in range(min(SEND_BATCH, len(self._pending)))]
                try:
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

    async def _listen(self) -> None:
        delay = 0.2
        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self._ready.set()
                    delay = 0.2
                    async for raw in pubsub.listen():
                        await self._dispatch(raw["data"])
            except asyncio.CancelledError:
                raise
            except RedisError as err:  # an outage: one line per attempt, not a traceback
                logger.warning("bus.listen.failed error=%s retry_in=%.1fs", type(err).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            except Exception:
                logger.exception("bus.listen.failed retry_in=%.1fs", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _dispatch(self, data: bytes) -> None:
        event = json.loads(data)
        for handler in self._handlers:
            try:
                await handler(event)
            except Exception:
                logger.exception("bus.handler.failed type=%s", event.get("t"))
