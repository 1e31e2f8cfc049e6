"""Rate limits hold across hub processes (one bucket per key in a real Redis), refill with time,
and fall back to a per-process bucket when Redis is gone. A running limiter spends most tokens
from its view of the shared bucket and sends the spending in batches (ADR 0062)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from hub.embedded import free_port, start_redis, stop
from hub.limits import RedisRateLimiter


@contextlib.asynccontextmanager
async def limiters(redis: Redis, running: bool) -> AsyncIterator[tuple[RedisRateLimiter, RedisRateLimiter]]:
    """Two processes' limiters; ``running``: with their sync tasks, as the hub runs them, but
    syncing only when a test says so (``sync()``), so that verdicts do not depend on timing."""
    first, second = RedisRateLimiter(redis, sync_s=3600), RedisRateLimiter(redis, sync_s=3600)
    if not running:
        yield first, second
        return
    async with first, second:
        yield first, second


@pytest.mark.parametrize("running", [False, True], ids=["exact", "running"])
async def test_two_processes_share_one_bucket(redis: Redis, running: bool) -> None:
    async with limiters(redis, running) as (first, second):
        await shared_bucket(redis, first, second)


async def shared_bucket(redis: Redis, first: RedisRateLimiter, second: RedisRateLimiter) -> None:
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


async def test_a_visitor_at_an_ordinary_pace_costs_no_redis_round_trip_per_message(redis: Redis) -> None:
    """The first token of a key is decided by Redis; later ones, while the view keeps half the burst,
    are spent locally and reach Redis in one batch, where the other process sees them."""
    async with limiters(redis, True) as (first, second):
        verdicts = [await first.allow("webchat:v_chatty", rate_per_s=1.0, burst=60) for _ in range(25)]
        assert verdicts == [True] * 25
        assert first.round_trips == 1, "one exchange with Redis for the key, not one per message"
        await first.sync()
        tokens = float(await redis.hget("hub:rate:webchat:v_chatty", "t") or 0)
        assert 35 <= tokens < 36, "all 25 tokens spent in the shared bucket (plus what refilled meanwhile)"
        spent_by_second = 0
        while await second.allow("webchat:v_chatty", rate_per_s=1.0, burst=60):
            spent_by_second += 1
        assert 35 <= spent_by_second <= 36, "the other process finds only what is left"
        assert second.round_trips >= 30, "below half the burst, every token is decided by Redis"


async def test_a_flood_near_the_bottom_is_decided_by_redis_across_processes(redis: Redis) -> None:
    """Two running processes spending one key in turn: each spends at most half the burst from its
    view, then every token is decided by Redis with the asking process's unsent spending."""
    async with limiters(redis, True) as (first, second):
        granted = 0
        for n in range(40):
            granted += await (first if n % 2 else second).allow("webchat-identities:198.51.100.7",
                                                             rate_per_s=0.01, burst=20)
        assert granted == 20
        await first.sync()
        await second.sync()
        assert float(await redis.hget("hub:rate:webchat-identities:198.51.100.7", "t") or 1) < 1


async def test_a_visitor_writing_every_few_seconds_costs_no_round_trip_either(redis: Redis) -> None:
    """The view outlives the pauses of an ordinary conversation (``VIEW_TTL_S``)."""
    async with limiters(redis, True) as (first, _):
        assert await first.allow("webchat:v_pauses", rate_per_s=1.0, burst=10)
        await asyncio.sleep(2.5)
        assert await first.allow("webchat:v_pauses", rate_per_s=1.0, burst=10)
        assert first.round_trips == 1
