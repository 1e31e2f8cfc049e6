"""Work that must run in one hub process at a time (an IMAP mailbox's watcher, Telegram polling).

Every process runs ``exclusive(name, work)``; the one that holds the Redis lease ``hub:lease:<name>``
runs ``work`` and renews the lease every third of its time to live. When the holder dies (or loses
Redis), its lease expires and another process takes over within ``ttl_s``. When a holder cannot
renew (its lease expired meanwhile, or Redis is gone) it stops ``work`` at once, so two copies
never run longer than the renewal that failed. The lease is released on a clean stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hub.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

PREFIX = "hub:lease:"

# Renew or release only a lease this owner still holds (compare and set, atomically).
RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class RedisLeases:
    """Implements ``hub.ports.Exclusive``. One instance per process; its owner id is random."""

    def __init__(self, redis: Redis, *, ttl_s: float = 15.0) -> None:
        self._redis = redis
        self._ttl_ms = int(ttl_s * 1000)
        self._owner = secrets.token_hex(8)
        self._renew = redis.register_script(RENEW)
        self._release = redis.register_script(RELEASE)

    async def holder(self, name: str) -> str | None:
        value = await self._redis.get(PREFIX + name)
        return value.decode() if isinstance(value, bytes) else value

    @property
    def owner(self) -> str:
        return self._owner

    async def exclusive(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work`` whenever this process holds the lease ``name``; until cancelled."""
        key, period = PREFIX + name, self._ttl_ms / 3000
        while True:
            try:
                acquired = bool(await self._redis.set(key, self._owner, nx=True, px=self._ttl_ms))
            except RedisError:
                logger.warning("lease.acquire.failed name=%s", name, exc_info=True)
                acquired = False
            if not acquired:
                await asyncio.sleep(period)
                continue
            logger.info("lease.acquired name=%s", name)
            try:
                await self._hold(key, period, work)
            finally:
                with contextlib.suppress(RedisError, asyncio.CancelledError):
                    await asyncio.shield(self._release(keys=[key], args=[self._owner]))
            logger.info("lease.released name=%s", name)

    async def _hold(self, key: str, period: float, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work`` while every renewal succeeds; returns when one fails or ``work`` ended."""
        task = asyncio.ensure_future(work())
        try:
            while not task.done():
                done, _ = await asyncio.wait({task}, timeout=period)
                if done:
                    break
                try:
                    renewed = await self._renew(keys=[key], args=[self._owner, self._ttl_ms])
                except RedisError:
                    renewed = 0
                if not renewed:
                    logger.warning("lease.lost key=%s", key)
                    return
        finally:
            if not task.done():
                try:
                    await cancel_and_wait(task)
                except Exception:
                    logger.exception("lease.work.failed_on_cancel key=%s", key)
        if not task.cancelled() and task.exception() is not None:
            logger.error("lease.work.failed key=%s", key, exc_info=task.exception())
        await asyncio.sleep(period)  # the work ended on its own: not in a tight loop
