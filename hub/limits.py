"""Rate limits shared by every hub process: a token bucket per key in Redis, spent in batches.

The bucket arithmetic is ``hub.ratelimit.take``'s, run by Redis on its own clock so that all
processes agree. Each process also keeps its own bucket per key (bounded memory), always spent
alongside, and the stricter of the two answers wins.

A Redis round trip per decision would cost every customer message one (ADR 0062), so a running
limiter (``async with``) decides most of them locally from its **view** of the shared bucket: the
tokens Redis reported for the key at the last exchange, refilled since at the key's rate, minus
what this process spent since. A token is spent locally only while the view is fresh
(``VIEW_TTL_S``) and still holds at least half the burst after it; the spending goes to Redis in
one script call for all keys every ``SYNC_S``. A key with no fresh view, or near empty, is decided
by Redis exactly, as before, carrying the key's unsent spending along. So a visitor writing at an
ordinary pace costs no round trip of its own, and a flood meets the exact check once it has spent
half its burst. What this loosens: a process's exact check does not see the tokens another process
spent locally in the last ``SYNC_S``, so a key spent in N processes at once can pass at most
(N - 1) half bursts more than its bucket within one sync; one process alone never overshoots.
A limiter used without ``async with`` has no sync task and decides every token with Redis.

Redis is never waited for: each call has a budget of ``REDIS_BUDGET_S``, and when Redis does not
answer within it, the process's own buckets decide alone for ``REDIS_PAUSE_S``, after which one
call at a time probes Redis again. A Redis outage loosens the limit to one bucket per process and
never delays customers by the client's reconnect attempts; spending not yet sent stays counted
and goes to Redis once it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hub.ratelimit import Bucket, take, wait_s
from hub.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

PREFIX = "hub:rate:"
MAX_LOCAL_BUCKETS = 10_000
REDIS_PAUSE_S = 5.0
REDIS_BUDGET_S = 0.25
SYNC_S = 0.05  # local spending goes to Redis at most this late
# A view older than this is not trusted: the next token is decided by Redis. Long enough for a
# visitor writing every few seconds: a stale view can only grant what a fresh one might (half the
# burst at most before the next sync refreshes it), so its age does not widen the bound above.
VIEW_TTL_S = 60.0
SYNC_BATCH = 500  # keys per script call

# The shared refill-and-spend step, then for TOKEN_BUCKET one more token if there is one.
# ``spent`` tokens were already granted by a process's view: they are taken even if that leaves the
# bucket below zero (down to -burst), so that the next ones wait for them.
_SPEND = """
local function spend(key, rate, burst, spent, now)
  local state = redis.call('HMGET', key, 't', 'u')
  local tokens = tonumber(state[1]) or burst
  local updated = tonumber(state[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
  return math.max(-burst, tokens - spent)
end
local function store(key, rate, burst, tokens, now)
  redis.call('HSET', key, 't', tostring(tokens), 'u', tostring(now))
  redis.call('PEXPIRE', key, math.ceil(math.max(0, burst - tokens) / rate * 1000) + 1000)
end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
"""

# Returns {wait_ms, tokens after}: wait_ms 0 when a token was spent, else the milliseconds until
# the bucket holds one.
TOKEN_BUCKET = _SPEND + """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local tokens = spend(KEYS[1], rate, burst, tonumber(ARGV[3]) or 0, now)
local wait_ms = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait_ms = math.ceil((1 - tokens) / rate * 1000)
end
store(KEYS[1], rate, burst, tokens, now)
return {wait_ms, tostring(tokens)}
"""

# ARGV: rate, burst, spent per key; returns the tokens after, per key.
SYNC = _SPEND + """
local after = {}
for i, key in ipairs(KEYS) do
  local rate, burst = tonumber(ARGV[3 * i - 2]), tonumber(ARGV[3 * i - 1])
  local tokens = spend(key, rate, burst, tonumber(ARGV[3 * i]), now)
  store(key, rate, burst, tokens, now)
  after[i] = tostring(tokens)
end
return after
"""


@dataclass(slots=True)
class View:
    """This process's knowledge of one shared bucket: ``tokens`` as Redis reported them at
    ``seen_s`` (this process's monotonic clock); ``unsent`` tokens spent here since and not yet
    sent, ``sending`` those on their way to Redis."""

    rate_per_s: float
    burst: float
    tokens: float
    seen_s: float
    unsent: int = 0
    sending: int = 0

    def spend_locally(self, now_s: float) -> bool:
        """Spend one token here if the view is fresh and keeps at least half the burst after it."""
        if now_s - self.seen_s >= VIEW_TTL_S:
            return False
        refilled = min(self.burst, self.tokens + (now_s - self.seen_s) * self.rate_per_s)
        if refilled - self.unsent - self.sending - 1 < self.burst / 2:
            return False
        self.unsent += 1
        return True


class RedisRateLimiter:
    """Lifecycle: ``async with limiter`` runs the task that sends local spending to Redis (and sends
    the rest on leaving); without it every token is decided by Redis."""

    def __init__(self, redis: Redis, *, sync_s: float = SYNC_S) -> None:
        self._sync_s = sync_s
        self._script = redis.register_script(TOKEN_BUCKET)
        self._sync_script = redis.register_script(SYNC)
        self._local: dict[str, Bucket] = {}
        self._views: dict[str, View] = {}
        self._redis_paused_until = 0.0
        self._probing = False  # after a pause, one call at a time finds out whether Redis is back
        self._syncer: asyncio.Task[None] | None = None
        self._unsent = asyncio.Event()
        self.round_trips = 0  # script calls made for single decisions (the sync's not counted)

    async def __aenter__(self) -> RedisRateLimiter:
        self._syncer = asyncio.create_task(self._sync_loop(), name="ratelimit:sync")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._syncer is not None:
            await cancel_and_wait(self._syncer)
            self._syncer = None
        with contextlib.suppress(RedisError, TimeoutError):
            await self.sync()  # what was spent locally still counts for the other processes

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
        process's own bucket costs no Redis round trip (a flood's refused attempts stay cheap), and
        neither does a token the view may grant (module docstring)."""
        local_wait = self._locally(key, rate_per_s=rate_per_s, burst=burst)
        if local_wait > 0:
            return local_wait  # this process alone spent the bucket: the shared one is empty too; no round trip
        now = time.monotonic()
        view = self._views.get(key)
        if self._syncer is not None and view is not None and view.spend_locally(now):
            self._unsent.set()
            return 0.0
        recovering = self._redis_paused_until > 0
        if now >= self._redis_paused_until and not (recovering and self._probing):
            self._probing = recovering
            unsent = self._send_out(key)
            try:
                self.round_trips += 1
                async with asyncio.timeout(REDIS_BUDGET_S):
                    wait_ms, tokens = await self._script(keys=[PREFIX + key], args=[rate_per_s, burst, unsent])
                if recovering:
                    logger.info("ratelimit.redis_back")
                    self._redis_paused_until = 0.0
                self._landed(key, rate_per_s, burst, float(tokens), sent=unsent)
                return max(local_wait, int(wait_ms) / 1000)
            except (RedisError, TimeoutError) as err:
                self._lost(key, unsent)
                self._pause(err)
            finally:
                self._probing = False
        # Granted by this process alone: counted, so that the others learn of it once Redis is back.
        self._view(key, rate_per_s, burst).unsent += 1
        self._unsent.set()
        return local_wait

    async def sync(self) -> None:
        """Send every key's local spending to Redis now (one script call per ``SYNC_BATCH`` keys)
        and refresh those keys' views; on failure the spending stays counted for the next time."""
        keys = [key for key, view in self._views.items() if view.unsent]
        for start in range(0, len(keys), SYNC_BATCH):
            batch = keys[start:start + SYNC_BATCH]
            args: list[float] = []
            sent = []
            for key in batch:
                view = self._views[key]
                sent.append(self._send_out(key))
                args += [view.rate_per_s, view.burst, sent[-1]]
            try:
                async with asyncio.timeout(REDIS_BUDGET_S):
                    after = await self._sync_script(keys=[PREFIX + key for key in batch], args=args)
            except BaseException:
                for key, count in zip(batch, sent, strict=True):
                    self._lost(key, count)
                raise
            for key, count, tokens in zip(batch, sent, after, strict=True):
                view = self._views[key]
                self._landed(key, view.rate_per_s, view.burst, float(tokens), sent=count)

    async def _sync_loop(self) -> None:
        while True:
            await self._unsent.wait()
            await asyncio.sleep(max(self._sync_s, self._redis_paused_until - time.monotonic()))
            self._unsent.clear()
            try:
                await self.sync()
            except (RedisError, TimeoutError) as err:
                self._pause(err)
                self._unsent.set()  # try again after the pause

    def _view(self, key: str, rate_per_s: float, burst: float) -> View:
        """The key's view; a new one knows nothing (too old to spend from) and only counts spending."""
        view = self._views.get(key)
        if view is None:
            view = self._views[key] = View(rate_per_s, burst, burst, time.monotonic() - VIEW_TTL_S)
        return view

    def _send_out(self, key: str) -> int:
        """The key's unsent tokens, now on their way to Redis."""
        view = self._views.get(key)
        if view is None:
            return 0
        count, view.unsent, view.sending = view.unsent, 0, view.sending + view.unsent
        return count

    def _landed(self, key: str, rate_per_s: float, burst: float, tokens: float, *, sent: int) -> None:
        """Redis took the ``sent`` tokens and reported ``tokens`` left: a fresh view."""
        view = self._view(key, rate_per_s, burst)
        view.tokens, view.seen_s, view.sending = tokens, time.monotonic(), max(0, view.sending - sent)

    def _lost(self, key: str, sent: int) -> None:
        """The ``sent`` tokens may not have reached Redis: unsent again (counted twice at worst: stricter)."""
        view = self._views.get(key)
        if view is not None and sent:
            view.sending = max(0, view.sending - sent)
            view.unsent += sent

    def _pause(self, err: BaseException) -> None:
        logger.warning("ratelimit.redis_unavailable error=%s local_for_s=%.0f", type(err).__name__, REDIS_PAUSE_S)
        self._redis_paused_until = time.monotonic() + REDIS_PAUSE_S

    def _locally(self, key: str, *, rate_per_s: float, burst: float) -> float:
        if len(self._local) > MAX_LOCAL_BUCKETS:
            self._local.clear()  # a full bucket for everyone: lenient, and memory stays bounded
        if len(self._views) > MAX_LOCAL_BUCKETS:  # unsent spending is kept, views are read again
            self._views = {k: v for k, v in self._views.items() if v.unsent or v.sending}
        now = time.monotonic()
        allowed, self._local[key] = take(self._local.get(key), now_s=now, rate_per_s=rate_per_s, burst=burst)
        return 0.0 if allowed else wait_s(self._local[key], rate_per_s=rate_per_s)
