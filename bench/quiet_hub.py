"""A quiet hub: 200 widgets and 20 agents connected, every conversation assigned, nobody writing.

Run:  .venv/bin/python bench/quiet_hub.py [--customers 200] [--agents 20] [--seconds 30] [--processes 1]

What it costs per second while nothing happens: the hub's CPU (% of a core), SecantusDB's and
redis's, MongoDB data operations (reads and writes apart) and Redis commands, from the same
counters as ``webchat_roundtrip.py`` (``bench/counters.py``). The agents' consoles send their
heartbeat every 10 s as the real console does. Results: stdout and ``bench/results/quiet_hub.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from counters import ServerCounters
from runinfo import git_state, machine
from webchat_roundtrip import (
    LOGS,
    RESULTS,
    Agent,
    CpuMeter,
    Customer,
    Plan,
    Stats,
    gather_limited,
    hub_server,
    wait_until,
)


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    plan = Plan(rates=[0], duration_s=args.seconds, level_warmup_s=0, drain_s=0, customers=args.customers,
                agents=args.agents, processes=args.processes)
    async with hub_server(plan, None) as server:
        stats = Stats()
        agents = [Agent(server.url(i), name, stats) for i, name in enumerate(server.agent_names)]
        http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        customers = [Customer(server.url(i), http, i, stats) for i in range(plan.customers)]
        try:
            await gather_limited([a.start() for a in agents], 10)
            await gather_limited([c.start() for c in customers], 20)
            for c in customers:
                await c.send(f"warm-{c.index:06d}-{uuid.uuid4().hex[:6]}", "Hello, my power is out")
                await asyncio.sleep(0.002)
            if not await wait_until(lambda: stats.accepted >= plan.customers, within_s=120):
                raise RuntimeError(f"only {stats.accepted}/{plan.customers} conversations assigned")
            await asyncio.sleep(args.settle)  # receipts, consumers and inbox lines of the warm-up are written
            counters = ServerCounters(server.mongo_url, server.bus_redis_url)
            cpu = CpuMeter(server.pids)
            await counters.start()
            cpu.start()
            await asyncio.sleep(args.seconds)
            load = cpu.stop()
            await counters.stop()
        finally:
            await asyncio.gather(*(c.close() for c in customers), return_exceptions=True)
            await http.close()
            await asyncio.gather(*(a.close() for a in agents), return_exceptions=True)
    per_s = args.seconds
    summary = counters.summary(1, per_s)
    return {"cpu": load, "mongo_ops": counters.ops, "redis_commands": counters.redis,
            "mongo_data_ops_per_s": round(summary.get("mongo", {}).get("data_ops_per_s", 0.0), 2),
            "redis_commands_per_s": round(sum(counters.redis.values()) / per_s, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after the warm-up before measuring")
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--out", default=str(RESULTS / "quiet_hub.json"))
    args = parser.parse_args()
    LOGS.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result = asyncio.run(measure(args))
    cpu = result["cpu"]
    hubs = sum(v for k, v in cpu.items() if k.startswith("hub"))
    db, redis, other = (cpu.get(f"{k}_pct_of_1_core", 0.0) for k in ("secantus", "redis", "other_processes"))
    print(f"quiet hub ({args.customers} widgets, {args.agents} agents, {args.processes} process(es), "
          f"{args.seconds:.0f} s): hub {hubs:.1f} % of a core, SecantusDB {db:.1f} %, redis {redis:.1f} %, "
          f"other processes {other:.0f} %")
    print(f"  MongoDB {result['mongo_data_ops_per_s']} data ops/s ({result['mongo_ops']}); "
          f"Redis {result['redis_commands_per_s']} commands/s ({result['redis_commands']})")
    out = {"benchmark": "quiet_hub", "date": datetime.now(UTC).isoformat(timespec="seconds"), "git": git_state(),
           "machine": machine(), "config": vars(args), **result, "elapsed_s": round(time.perf_counter() - started, 1)}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
