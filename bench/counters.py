"""What one round trip costs the servers: MongoDB data operations (reads and writes apart, from
``serverStatus`` opcounters), Redis commands (``INFO commandstats``) and CPU milliseconds per
process, taken as differences between two snapshots around a measured window.

SecantusDB counts one operation per command (an ``insert_many`` of n documents is one insert, a
``bulk_write`` of n updates one update); mongod counts documents and statements. Both are what the
benchmarks report, with the engine named in the results.
"""

from __future__ import annotations

from typing import Any

READS = ("query", "getmore")
WRITES = ("insert", "update", "delete")
TOP_SECTIONS = ("queries", "getmore", "insert", "update", "remove", "commands")  # ``top``'s, per collection


async def mongo_opcounters(mongo_url: str | None) -> dict[str, int]:
    """``serverStatus().opcounters`` (empty when the engine has none)."""
    if not mongo_url:
        return {}
    from hub.storage.database import connect

    client = connect(mongo_url)
    try:
        status = await client.admin.command("serverStatus")
        return {k: int(v) for k, v in status.get("opcounters", {}).items()}
    except Exception:  # an engine without serverStatus: no op counts, the rest still stands
        return {}
    finally:
        await client.close()


async def mongo_top(mongo_url: str | None) -> dict[str, dict[str, tuple[int, int]]]:
    """``top``: per collection (``db.collection``) and section, ``(count, microseconds)``; empty when
    the engine has none (SecantusDB and mongod both answer it; SecantusDB counts commands)."""
    if not mongo_url:
        return {}
    from hub.storage.database import connect

    client = connect(mongo_url)
    try:
        totals = (await client.admin.command("top")).get("totals", {})
    except Exception:
        return {}
    finally:
        await client.close()
    return {ns: {s: (int(v[s]["count"]), int(v[s]["time"])) for s in TOP_SECTIONS if s in v}
            for ns, v in totals.items() if isinstance(v, dict)}


def top_difference(before: dict[str, dict[str, tuple[int, int]]],
                   after: dict[str, dict[str, tuple[int, int]]]) -> dict[str, dict[str, tuple[int, int]]]:
    """What happened between two ``top`` snapshots, collections and sections with no command left out."""
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for ns, sections in after.items():
        for section, (count, micros) in sections.items():
            count0, micros0 = before.get(ns, {}).get(section, (0, 0))
            if count > count0:
                out.setdefault(ns.split(".", 1)[-1], {})[section] = (count - count0, micros - micros0)
    return out


async def redis_commands(redis_url: str | None) -> dict[str, int]:
    """Calls per command from ``INFO commandstats`` (the INFO call itself is subtracted by the caller)."""
    if not redis_url:
        return {}
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    try:
        stats = await redis.info("commandstats")
    finally:
        await redis.aclose()
    return {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()
            if isinstance(value, dict) and "calls" in value}


class ServerCounters:
    """Snapshot before, snapshot after; ``per(n)`` divides what happened in between by ``n`` round trips."""

    def __init__(self, mongo_url: str | None, redis_url: str | None) -> None:
        self._mongo_url = mongo_url
        self._redis_url = redis_url
        self._ops0: dict[str, int] = {}
        self._redis0: dict[str, int] = {}
        self._top0: dict[str, dict[str, tuple[int, int]]] = {}
        self.ops: dict[str, int] = {}
        self.redis: dict[str, int] = {}
        self.top: dict[str, dict[str, tuple[int, int]]] = {}  # collection -> section -> (commands, µs)

    async def start(self) -> None:
        self._ops0 = await mongo_opcounters(self._mongo_url)
        self._top0 = await mongo_top(self._mongo_url)
        self._redis0 = await redis_commands(self._redis_url)

    async def stop(self) -> None:
        ops1 = await mongo_opcounters(self._mongo_url)
        top1 = await mongo_top(self._mongo_url)
        self.top = top_difference(self._top0, top1) if self._top0 else {}
        redis1 = await redis_commands(self._redis_url)
        self.ops = {k: v - self._ops0.get(k, 0) for k, v in ops1.items()} if self._ops0 and ops1 else {}
        self.redis = {k: v - self._redis0.get(k, 0) for k, v in redis1.items() if v != self._redis0.get(k, 0)}
        if self.redis.get("info"):  # our own snapshot
            self.redis["info"] -= 1
            if not self.redis["info"]:
                del self.redis["info"]

    def summary(self, round_trips: int, seconds: float) -> dict[str, Any]:
        n = max(round_trips, 1)
        out: dict[str, Any] = {}
        if self.ops:
            reads = sum(self.ops.get(k, 0) for k in READS)
            writes = sum(self.ops.get(k, 0) for k in WRITES)
            out["mongo"] = {"by_kind": self.ops, "reads": reads, "writes": writes,
                            "reads_per_round_trip": round(reads / n, 3), "writes_per_round_trip": round(writes / n, 3),
                            "data_ops_per_round_trip": round((reads + writes) / n, 3),
                            "data_ops_per_s": round((reads + writes) / max(seconds, 1e-9), 1)}
            if self.top:  # which collections: commands per round trip and SecantusDB's ms in them
                out["mongo"]["by_collection"] = {
                    f"{coll}.{section}": {"per_round_trip": round(count / n, 3),
                                          "ms_per_round_trip": round(micros / n / 1000, 3)}
                    for coll, sections in sorted(self.top.items()) for section, (count, micros) in sections.items()}
        if self._redis_url:
            total = sum(self.redis.values())
            top = dict(sorted(self.redis.items(), key=lambda kv: -kv[1])[:8])
            out["redis"] = {"commands": total, "per_round_trip": round(total / n, 2), "top": top}
        return out


def cpu_ms_per_round_trip(cpu_pct: dict[str, float], seconds: float, round_trips: int) -> dict[str, float]:
    """``{process}_pct_of_1_core`` over ``seconds`` -> CPU milliseconds per round trip per process."""
    n = max(round_trips, 1)
    return {name.removesuffix("_pct_of_1_core"): round(pct / 100 * seconds * 1000 / n, 3)
            for name, pct in cpu_pct.items()
            if name.endswith("_pct_of_1_core") and not name.startswith("other")}


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process so far (its threads included), from /proc."""
    import os
    from pathlib import Path

    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def system_busy() -> tuple[float, float]:
    """(busy jiffies, total jiffies) over all cores, from /proc/stat."""
    from pathlib import Path

    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + parts[4]
    return float(sum(parts) - idle), float(sum(parts))


class ProcessCpu:
    """CPU milliseconds of named processes between ``start()`` and ``stop()``, and how busy the
    whole machine was meanwhile (``machine_busy_pct``: % of all cores; whoever used them)."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._pids = pids
        self._cpu0: dict[str, float] = {}
        self._system0 = (0.0, 0.0)
        self.machine_busy_pct = 0.0

    def start(self) -> None:
        self._cpu0 = {name: process_cpu_s(pid) for name, pid in self._pids.items()}
        self._system0 = system_busy()

    def stop(self, round_trips: int) -> dict[str, float]:
        n = max(round_trips, 1)
        busy, total = system_busy()
        if total > self._system0[1]:
            self.machine_busy_pct = round(100 * (busy - self._system0[0]) / (total - self._system0[1]), 1)
        return {name: round((process_cpu_s(pid) - self._cpu0[name]) * 1000 / n, 3) for name, pid in self._pids.items()}
