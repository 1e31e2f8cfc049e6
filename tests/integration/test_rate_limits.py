"""Rate limits hold across hub processes (one bucket per key in a real Redis), refill with time,
and fall back to a per-process bucket when Redis is gone."""

from __future__ import annotations

import asyncio
from pathlib import Path

from redis.asyncio import Redis

from hub.embedded import free_port, start_redis, stop
from hub.limits import RedisRateLimiter


async def test_two_processes_share_one_bucket(redis: Redis) -> None:
    first, second = RedisRateLimiter(redis), RedisRateLimiter(redis)
    verdicts = [await (first if n % 2 else second).allow("webchat:v_flood", rate_per_s=1.0, burst=6)
                for n in range(10)]
    assert verdicts == [True] * 6 + [False] * 4, "six in all, not six per process"
    assert await first.allow("webchat:v_other", rate_per_s=1.0, burst=6), "each key has its own bucket"
    await asyncio.sleep(1.1)
    assert await second.allow("webchat:v_flood", rate_per_s=1.0, burst=6), "a token came back"
    assert not await first.allow("webchat:v_flood", rate_per_s=1.0, burst=6)
    assert 0 < await redis.pttl("hub:rate:webchat:v_flood") <= 7000, "idle buckets expire"


async def test_without_redis_each_process_limits_on_its_own_without_delay() -> None:
    gone = Redis(port=free_port(), socket_connect_timeout=0.2)  # nothing listens there
    limiter = RedisRateLimiter(gone)
    assert await limiter.allow("webchat:v_1", rate_per_s=0.01, burst=3)  # finds Redis gone
    loop = asyncio.get_running_loop()
    started = loop.time()
    verdicts = [await limiter.allow("webchat:v_1", rate_per_s=0.01, burst=3) for _ in range(4)]
    assert verdicts == [True, True, False, False]
    assert loop.time() - started < 0.5, "no reconnect attempts per message while Redis is known to be gone"
    await gone.aclose()


async def test_a_redis_that_stops_answering_earns_no_one_a_fresh_bucket(artifacts: Path) -> None:
    """The fallback starts from what this process really spent: an attacker who slows the hub
    (or Redis) down must not get a full bucket when the limiter stops waiting for Redis."""
    service = start_redis(None, artifacts / "redis-limits.log")
    client = Redis.from_url(service.url, socket_timeout=0.2, socket_connect_timeout=0.2)
    try:
        limiter = RedisRateLimiter(client)
        spent = [await limiter.allow("webchat-identities:203.0.113.1", rate_per_s=0.01, burst=3) for _ in range(4)]
        assert spent == [True, True, True, False]
        stop(service)
        assert not await limiter.allow("webchat-identities:203.0.113.1", rate_per_s=0.01, burst=3)
        assert await limiter.allow("webchat-identities:203.0.113.2", rate_per_s=0.01, burst=3), "others still pass"
    finally:
        stop(service)
        await client.aclose()
