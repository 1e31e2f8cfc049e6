"""Rate limits shared by every hub process: a token bucket per key in Redis (one Lua call).

The bucket arithmetic is ``hub.ratelimit.take``'s, run by Redis on its own clock so that all
processes agree. Each process also keeps its own bucket per key (bounded memory), always spent
alongside, and the stricter of the two answers wins. Redis is never waited for: each call has a
budget of ``REDIS_BUDGET_S``, and when Redis does not answer within it, the process's own buckets
decide alone for ``REDIS_PAUSE_S``, after which one call at a time probes Redis again. A Redis
outage loosens the limit to one bucket per process and never delays customers by the client's
reconnect attempts.
"""

from __future__ import annotations

import asyncio
import logging
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hub.ratelimit import Bucket, take, wait_s

logger = logging.getLogger(__name__)

PREFIX = "hub:rate:"
MAX_LOCAL_BUCKETS = 10_000
REDIS_PAUSE_S = 5.0
REDIS_BUDGET_S = 0.25

# Returns 0 when a token was spent, else the milliseconds until the bucket holds one.
TOKEN_BUCKET = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 't', 'u')
local tokens = tonumber(state[1]) or burst
local updated = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
local wait_ms = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait_ms = math.ceil((1 - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'u', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return wait_ms
"""


class RedisRateLimiter:
    def __init__(self, redis: Redis) -> None:
        self._script = redis.register_script(TOKEN_BUCKET)
        self._local: dict[str, Bucket] = {}
        self._redis_paused_until = 0.0
        self._probing = False  # after a pause, one call at a time finds out whether Redis is back

    async def allow(self, key: str, *, rate_per_s: float, burst: float) -> bool:
        """Spend one token of ``key``'s bucket; False when it is empty."""
        return await self.retry_after_s(key, rate_per_s=rate_per_s, burst=burst) == 0

    async def retry_after_s(self, key: str, *, rate_per_s: float, burst: float) -> float:
        """Spend one token of ``key``'s bucket: 0 when there was one, else the seconds until there is.

        This process's own bucket for ``key`` is always spent too, and the stricter answer wins: it
        can only refuse what the shared bucket would refuse as well (this process's spending is part
        of everyone's), and when Redis does not answer in time (down, or this process's event loop
        running late under load) the fallback starts from what was really spent, not from a full
        bucket: an attack that slows the hub must not earn itself extra quota. A refusal by this
        process's own bucket costs no Redis round trip (a flood's refused attempts stay cheap)."""
        local_wait = self._locally(key, rate_per_s=rate_per_s, burst=burst)
        if local_wait > 0:
            return local_wait  # this process alone spent the bucket: the shared one is empty too; no round trip
        recovering = self._redis_paused_until > 0
        if time.monotonic() >= self._redis_paused_until and not (recovering and self._probing):
            self._probing = recovering
            try:
                async with asyncio.timeout(REDIS_BUDGET_S):
                    wait_ms = await self._script(keys=[PREFIX + key], args=[rate_per_s, burst])
                if recovering:
                    logger.info("ratelimit.redis_back")
                    self._redis_paused_until = 0.0
                return max(local_wait, int(wait_ms) / 1000)
            except (RedisError, TimeoutError) as err:
                logger.warning("ratelimit.redis_unavailable error=%s local_for_s=%.0f", type(err).__name__,
                               REDIS_PAUSE_S)
                self._redis_paused_until = time.monotonic() + REDIS_PAUSE_S
            finally:
                self._probing = False
        return local_wait

    def _locally(self, key: str, *, rate_per_s: float, burst: float) -> float:
        if len(self._local) > MAX_LOCAL_BUCKETS:
            self._local.clear()  # a full bucket for everyone: lenient, and memory stays bounded
        now = time.monotonic()
        allowed, self._local[key] = take(self._local.get(key), now_s=now, rate_per_s=rate_per_s, burst=burst)
        return 0.0 if allowed else wait_s(self._local[key], rate_per_s=rate_per_s)
