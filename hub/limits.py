"""Rate limits shared by every hub process: a token bucket per key in Redis (one Lua call).

The bucket arithmetic is ``hub.ratelimit.take``'s, run by Redis on its own clock so that all
processes agree. When Redis does not answer, each process falls back to a bucket of its own
(bounded memory) and stops asking Redis for ``REDIS_PAUSE_S``: a Redis outage loosens the limit
to one bucket per process, and never delays customers by the client's reconnect attempts.
"""

from __future__ import annotations

import logging
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hub.ratelimit import Bucket, take

logger = logging.getLogger(__name__)

PREFIX = "hub:rate:"
MAX_LOCAL_BUCKETS = 10_000
REDIS_PAUSE_S = 5.0

TOKEN_BUCKET = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 't', 'u')
local tokens = tonumber(state[1]) or burst
local updated = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'u', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return allowed
"""


class RedisRateLimiter:
    def __init__(self, redis: Redis) -> None:
        self._script = redis.register_script(TOKEN_BUCKET)
        self._local: dict[str, Bucket] = {}
        self._redis_paused_until = 0.0

    async def allow(self, key: str, *, rate_per_s: float, burst: float) -> bool:
        """Spend one token of ``key``'s bucket; False when it is empty."""
        now = time.monotonic()
        if now >= self._redis_paused_until:
            try:
                return bool(await self._script(keys=[PREFIX + key], args=[rate_per_s, burst]))
            except RedisError:
                logger.warning("ratelimit.redis_unavailable local_for_s=%.0f", REDIS_PAUSE_S)
                self._redis_paused_until = time.monotonic() + REDIS_PAUSE_S
        return self._allow_locally(key, rate_per_s=rate_per_s, burst=burst)

    def _allow_locally(self, key: str, *, rate_per_s: float, burst: float) -> bool:
        if len(self._local) > MAX_LOCAL_BUCKETS:
            self._local.clear()  # a full bucket for everyone: lenient, and memory stays bounded
        allowed, self._local[key] = take(self._local.get(key), now_s=time.monotonic(),
                                         rate_per_s=rate_per_s, burst=burst)
        return allowed
