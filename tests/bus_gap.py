"""A bus gap held open: Redis refuses SUBSCRIBE and every listener is dropped, so no fact published
meanwhile reaches any subscriber of any process (the window of a re-subscription, ADR 0060)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from redis.asyncio import Redis

from hub.bus import CHANNEL
from tests.conftest import eventually


@contextlib.asynccontextmanager
async def deaf_bus(redis: Redis) -> AsyncIterator[None]:
    """No process's bus listens inside; SUBSCRIBE is allowed again on the way out (the hubs' listeners
    then subscribe again after their backoff, and hand ``BusResubscribed`` to their subscribers)."""
    await redis.execute_command("ACL", "SETUSER", "default", "-subscribe")
    try:
        await redis.client_kill_filter(_type="pubsub")
        await eventually(lambda: no_listener(redis), timeout=10)
        yield
        assert await no_listener(redis)  # still deaf: whatever happened did not come through the bus
    finally:
        await redis.execute_command("ACL", "SETUSER", "default", "+subscribe")


async def no_listener(redis: Redis) -> bool:
    return bool((await redis.pubsub_numsub(CHANNEL))[0][1] == 0)
