"""Login throttling shared by every hub process: failure counts per account and per client address
in Redis, with an exponential backoff (a lockout window) after a number of free failures.

The account counts *attempts* (one Lua call checks the locks and counts the attempt before the
password is checked, so a burst of parallel guesses cannot slip through together); a success
clears it. The address counts failures. Counts exist for any name typed, so the answers never
tell whether an account exists. When Redis does not answer, each process counts on its own
(bounded memory) for ``REDIS_PAUSE_S``, as ``hub.limits`` does.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hub.config import LoginSettings

logger = logging.getLogger(__name__)

PREFIX = "hub:login:"
MAX_LOCAL_COUNTS = 10_000
REDIS_PAUSE_S = 5.0

# backoff(n, free): the lock after n counted failures, the same formula as ``backoff_ms``.
BACKOFF = """
local function now_ms()
  local clock = redis.call('TIME')
  return tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
end
local function lock(key, n, free, base, cap, now)
  if n >= free then
    redis.call('HSET', key, 'until', math.floor(now + math.min(cap, base * 2 ^ math.min(n - free, 62))))
  end
end
"""
# KEYS: account, address. ARGV: account free, base ms, cap ms, ttl ms. Returns ms to wait (0: go on).
ATTEMPT = BACKOFF + """
local now, wait = now_ms(), 0
for _, key in ipairs(KEYS) do
  local locked = tonumber(redis.call('HGET', key, 'until') or 0)
  if locked > now then wait = math.max(wait, locked - now) end
end
if wait > 0 then return wait end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
lock(KEYS[1], n, tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), now)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 0
"""
# KEYS: account, address. ARGV: account free, address free, base ms, cap ms, ttl ms.
FAILED = BACKOFF + """
local now = now_ms()
local base, cap = tonumber(ARGV[3]), tonumber(ARGV[4])
lock(KEYS[1], tonumber(redis.call('HGET', KEYS[1], 'n') or 0), tonumber(ARGV[1]), base, cap, now)
lock(KEYS[2], redis.call('HINCRBY', KEYS[2], 'n', 1), tonumber(ARGV[2]), base, cap, now)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return 0
"""
# KEYS: account. ARGV: account free. The attempt was not made (no thread free to check it).
REFUND = """
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('HINCRBY', KEYS[1], 'n', -1) < tonumber(ARGV[1]) then
  redis.call('HDEL', KEYS[1], 'until')
end
return 0
"""


def backoff_ms(failures: int, *, free: int, base_ms: int, cap_ms: int) -> int:
    """How long to lock after ``failures`` counted failures: none below ``free``, then doubling."""
    if failures < free:
        return 0
    return int(min(cap_ms, base_ms * 2 ** min(failures - free, 62)))


@dataclass(slots=True)
class _Count:
    failures: int = 0
    locked_until_ms: int = 0
    expires_ms: int = 0


class RedisLoginThrottle:
    """Who may try a password now. Called by the console's login and password change.

    ``attempt`` before checking a password (counts it against the account); then exactly one of
    ``succeeded``, ``failed`` or ``refund`` (the check did not happen). Never raises on a Redis
    outage (see the module docstring).
    """

    def __init__(self, redis: Redis, settings: LoginSettings) -> None:
        self._attempt = redis.register_script(ATTEMPT)
        self._failed = redis.register_script(FAILED)
        self._refund = redis.register_script(REFUND)
        self._redis = redis
        self._s = settings
        self._base_ms, self._cap_ms = int(settings.backoff_base_s * 1000), int(settings.backoff_max_s * 1000)
        self._ttl_ms = int((settings.forget_after_s + settings.backoff_max_s) * 1000)
        self._local: dict[str, _Count] = {}
        self._redis_paused_until = 0.0

    async def attempt(self, username: str, address: str) -> float:
        """Seconds to wait before trying again (0.0: go on, the attempt is counted)."""
        keys = [_key("account", username), _key("address", address)]
        if self._use_redis():
            try:
                return int(await self._attempt(keys=keys, args=[self._s.account_free_failures, self._base_ms,
                                                                self._cap_ms, self._ttl_ms])) / 1000
            except RedisError:
                self._pause_redis()
        return self._attempt_locally(*keys) / 1000

    async def failed(self, username: str, address: str) -> None:
        keys = [_key("account", username), _key("address", address)]
        if self._use_redis():
            try:
                await self._failed(keys=keys, args=[self._s.account_free_failures, self._s.address_free_failures,
                                                    self._base_ms, self._cap_ms, self._ttl_ms])
                return
            except RedisError:
                self._pause_redis()
        now = _now_ms()
        account, address_count = self._count(keys[0], now), self._count(keys[1], now)
        self._lock(account, self._s.account_free_failures, now)
        address_count.failures += 1
        self._lock(address_count, self._s.address_free_failures, now)

    async def succeeded(self, username: str) -> None:
        key = _key("account", username)
        self._local.pop(key, None)
        if self._use_redis():
            try:
                await self._redis.delete(key)
            except RedisError:
                self._pause_redis()

    async def refund(self, username: str) -> None:
        key = _key("account", username)
        if self._use_redis():
            try:
                await self._refund(keys=[key], args=[self._s.account_free_failures])
                return
            except RedisError:
                self._pause_redis()
        count = self._count(key, _now_ms())
        count.failures = max(0, count.failures - 1)
        if count.failures < self._s.account_free_failures:
            count.locked_until_ms = 0

    # -- one process on its own while Redis is away -------------------------------------------------
    def _use_redis(self) -> bool:
        return time.monotonic() >= self._redis_paused_until

    def _pause_redis(self) -> None:
        logger.warning("login.throttle.redis_unavailable local_for_s=%.0f", REDIS_PAUSE_S)
        self._redis_paused_until = time.monotonic() + REDIS_PAUSE_S

    def _attempt_locally(self, account_key: str, address_key: str) -> int:
        now = _now_ms()
        account, address = self._count(account_key, now), self._count(address_key, now)
        wait = max(account.locked_until_ms, address.locked_until_ms) - now
        if wait > 0:
            return wait
        account.failures += 1
        self._lock(account, self._s.account_free_failures, now)
        return 0

    def _count(self, key: str, now: int) -> _Count:
        count = self._local.get(key)
        if count is None or count.expires_ms <= now:
            if len(self._local) >= MAX_LOCAL_COUNTS:
                self._local.clear()  # lenient, and memory stays bounded
            count = self._local[key] = _Count()
        count.expires_ms = now + self._ttl_ms
        return count

    def _lock(self, count: _Count, free: int, now: int) -> None:
        wait = backoff_ms(count.failures, free=free, base_ms=self._base_ms, cap_ms=self._cap_ms)
        if wait:
            count.locked_until_ms = now + wait


def _key(kind: str, name: str) -> str:
    return f"{PREFIX}{kind}:{name}"


def _now_ms() -> int:
    return int(time.monotonic() * 1000)
