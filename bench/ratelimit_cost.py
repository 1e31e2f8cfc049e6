"""What the web chat's rate limit costs the hub per customer message: Redis round trips, Redis
commands and this process's CPU per decision, for the limiter deciding every token with Redis
(``exact``: a ``RedisRateLimiter`` without its sync task, as every token was decided before ADR
0062) and for the running limiter (``running``: tokens spent from its view, sent in batches).

Run:  .venv/bin/python bench/ratelimit_cost.py [--visitors 200] [--messages 20] [--rounds 3]
      [--rate-per-minute 100000]

A private redis-server on a free loopback port (``hub.embedded``); ``visitors`` keys, each sending
``messages`` messages round-robin over the visitors (as the web-chat benchmark's widgets do),
decided one after another in one event loop as fast as it goes, with the per-visitor limit the
web-chat benchmark gives the hub (``HUB_WEBCHAT__RATE_PER_MINUTE=100000``, burst a sixth of it:
nobody is limited). ``--rate-per-minute 60`` (the default setting, burst 10) makes every visitor a
flood instead: past half its burst each token is decided by Redis, and past the burst refused
by the process's own bucket. The two kinds alternate for ``rounds`` rounds. CPU is
``time.process_time`` of this process (the client side, which is what the hub pays), so a busy
machine changes it little; Redis commands come from ``INFO commandstats`` (the script's own
``HMGET``/``HSET``/``PEXPIRE``/``TIME`` calls included).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hub.embedded import start_redis, stop  # noqa: E402
from hub.limits import RedisRateLimiter  # noqa: E402


async def commands(redis: Redis) -> int:
    stats: dict[str, Any] = await redis.info("commandstats")
    return sum(int(v["calls"]) for k, v in stats.items() if k.startswith("cmdstat_") and k != "cmdstat_info")


async def one(redis: Redis, kind: str, args: argparse.Namespace, round_no: int) -> dict[str, float]:
    visitors, messages = args.visitors, args.messages
    rate_per_s, burst = args.rate_per_minute / 60, max(10.0, args.rate_per_minute / 6)  # as channels/webchat
    limiter = RedisRateLimiter(redis)
    keys = [f"webchat:bench-{kind}-{round_no}-{n}" for n in range(visitors)]
    before = await commands(redis)
    cpu = time.process_time()
    allowed = 0

    async def run() -> None:
        nonlocal allowed
        for _ in range(messages):
            for key in keys:
                allowed += await limiter.allow(key, rate_per_s=rate_per_s, burst=burst)

    if kind == "running":
        async with limiter:
            await run()
    else:
        await run()
    cpu = time.process_time() - cpu
    decisions = visitors * messages
    return {"decisions": decisions, "allowed": allowed, "cpu_us_per_decision": round(cpu / decisions * 1e6, 1),
            "redis_round_trips_per_decision": round(limiter.round_trips / decisions, 3),
            "redis_commands_per_decision": round((await commands(redis) - before) / decisions, 2)}


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        service = start_redis(None, Path(folder) / "redis.log")
        redis = Redis.from_url(service.url)
        try:
            for round_no in range(args.rounds):
                for kind in ("exact", "running"):
                    print(kind, round_no + 1, await one(redis, kind, args, round_no),
                          flush=True)
        finally:
            await redis.aclose()
            stop(service)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--visitors", type=int, default=200)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate-per-minute", type=float, default=100_000)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
