"""Cross-process event fan-out over Redis pub/sub.

Every hub process publishes what happened (a message, a state change, an offer) and every
process, itself included, receives it and hands it to its local subscribers (the WebSockets it
holds, the assigner). Delivery is at-most-once: anything a client must not miss is also in
MongoDB and replayed when it reconnects.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from redis.asyncio import Redis

from hub.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

CHANNEL = "hub:bus"
Handler = Callable[[Mapping[str, Any]], Awaitable[None]]


class RedisEventBus:
    """Lifecycle: ``async with bus`` subscribes and starts the listener; leaving stops it."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._handlers: list[Handler] = []
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    def subscribe(self, handler: Handler) -> None:
        self._handlers.append(handler)

    async def publish(self, event: Mapping[str, Any]) -> None:
        await self._redis.publish(CHANNEL, json.dumps(event, separators=(",", ":"), default=str))

    async def __aenter__(self) -> RedisEventBus:
        self._task = asyncio.create_task(self._listen(), name="hub:bus")
        await asyncio.wait_for(self._ready.wait(), timeout=10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)

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
