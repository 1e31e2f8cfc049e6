"""ACD assignment benchmark: 10,000 waiting conversations, 500 agents.

Run:  .venv/bin/python bench/assignment.py [--quick] [--conversations 10000] [--agents 500]

(a) Pure decision time: ``routing.policy.select_agent`` over 500 ``AgentSnapshot``s with mixed
    skills, capacities, loads, statuses and heartbeats; p50/p99 in microseconds over 10,000
    decisions (one per waiting conversation, on a fixed snapshot).
(b) End to end through the real path: an embedded redis-server and an in-memory SecantusDB, a
    whole hub in this process via ``hub.bootstrap.running_hub`` (as the tests start it), with its
    background assigner task cancelled (so nothing else assigns while we measure). 10,000 queued
    conversations across the demo queues are enqueued with ``RoutingService.enqueue``; 500 agents
    register presence (``RoutingService.set_presence``) with webchat capacities summing to more
    than 10,000; then ``RoutingService.assign_round()`` runs until every conversation is offered.
    Reported: offers/s; offer latency (from the start of the round to the offer's ``OfferMade``
    being published: what a waiting customer waits for once a round starts); the Redis claim
    calls and the MongoDB transition calls (count and time: one per offer before the batched
    rounds, a few per round after); MongoDB operations (SecantusDB's ``serverStatus``
    opcounters) and Redis commands per offer; CPU milliseconds per offer of the hub (this
    process), SecantusDB and redis-server. Timings come from wrappers set on the instances in
    this process only, and work for any commit measured with ``--code``.
(c) Baseline in the same run: a naive in-Python assignment over dicts (the same eligibility and
    ranking rules, a linear scan over agents, no Redis, no MongoDB), so a ratio can be printed.

Results: a table on stdout and ``bench/results/assignment.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import json
import math
import os
import random
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def code_dir() -> Path:
    """``--code DIR``: measure the hub in DIR (an export of another commit) with this same script,
    so that a baseline and a change are measured alike, alternating in one run."""
    for i, arg in enumerate(sys.argv):
        if arg == "--code" and i + 1 < len(sys.argv):
            return Path(sys.argv[i + 1]).resolve()
        if arg.startswith("--code="):
            return Path(arg.split("=", 1)[1]).resolve()
    return ROOT


CODE = code_dir()
sys.path.insert(0, str(CODE))

from runinfo import calibrate, git_state, machine, pct  # noqa: E402

from hub.domain.ids import AgentId, AgentStatus, Role, Skill  # noqa: E402
from routing.policy import AgentSnapshot, WaitingConversation, select_agent  # noqa: E402

RESULTS = ROOT / "bench" / "results"
LOGS = RESULTS / "logs"
# Demo queues (hub/demo.py): id -> (skill, priority); share of the waiting conversations.
QUEUE_MIX = {"general": ("general", 0, 0.40), "billing": ("billing", 0, 0.25),
             "outages": ("outages", 2, 0.20), "complaints": ("complaints", 1, 0.15)}
EXTRA_SKILLS = {"billing": 0.6, "outages": 0.5, "complaints": 0.4}  # every agent has "general"
PRESENCE_TTL_MS = 30_000




def stats(values: list[float], scale: float, digits: int = 2) -> dict[str, Any]:
    """Percentiles of ``values`` (seconds) multiplied by ``scale`` (1e6 = µs, 1e3 = ms)."""
    scaled = [v * scale for v in values]
    r: Callable[[float | None], float | None] = lambda v: None if v is None else round(v, digits)  # noqa: E731
    return {"n": len(scaled), "p50": r(pct(scaled, 50)), "p90": r(pct(scaled, 90)), "p99": r(pct(scaled, 99)),
            "max": r(max(scaled) if scaled else None),
            "mean": r(sum(scaled) / len(scaled) if scaled else None)}


def agent_skills(rng: random.Random) -> frozenset[Skill]:
    return frozenset({Skill("general")} | {Skill(s) for s, p in EXTRA_SKILLS.items() if rng.random() < p})


def conversation_plan(n: int, rng: random.Random, now_ms: int) -> list[tuple[str, str, int, int]]:
    """(id, queue, priority, queued_ms) for ``n`` conversations spread over the demo queues."""
    out = []
    queues = list(QUEUE_MIX)
    weights = [QUEUE_MIX[q][2] for q in queues]
    for i in range(n):
        queue = rng.choices(queues, weights)[0]
        out.append((f"c_bench{i:07d}", queue, QUEUE_MIX[queue][1], now_ms - rng.randint(1_000, 600_000)))
    return out


# ---------------------------------------------------------------------------------------------
# (a) pure decision time
# ---------------------------------------------------------------------------------------------

def bench_decision(n_agents: int, n_decisions: int, rng: random.Random) -> dict[str, Any]:
    now_ms = int(time.time() * 1000)
    agents = []
    for i in range(n_agents):
        cap = rng.choice([3, 5, 10, 20, 30])
        roll = rng.random()
        status = AgentStatus.AVAILABLE if roll < 0.85 else (AgentStatus.AWAY if roll < 0.95 else AgentStatus.OFFLINE)
        load = {"webchat": rng.randint(0, cap)}
        if rng.random() < 0.2:
            load["email"] = rng.randint(0, 3)
        if rng.random() < 0.03:
            load["voice"] = 1
        agents.append(AgentSnapshot(
            agent_id=AgentId(f"a_{i:04d}"), status=status, skills=agent_skills(rng),
            capacity={"webchat": cap, "email": 5, "voice": 1}, load=load,
            last_assigned_ms=now_ms - rng.randint(0, 3_600_000),
            heartbeat_ms=now_ms - (rng.randint(0, 20_000) if rng.random() < 0.97 else 60_000)))
    # 5% of the conversations were declined by one agent a minute ago (the field's shape has
    # changed over time: a set of agents, or agent -> when; build whichever this checkout has).
    declined_factory = WaitingConversation.__dataclass_fields__["declined_by"].default_factory  # type: ignore[misc]
    as_mapping = isinstance(declined_factory(), Mapping)
    extra = {"reoffer_after_ms": 120_000} if "reoffer_after_ms" in inspect.signature(select_agent).parameters else {}

    def declined(rng: random.Random) -> Any:
        if rng.random() >= 0.05:
            return declined_factory()
        agent = AgentId(f"a_{rng.randrange(n_agents):04d}")
        return {agent: now_ms - 60_000} if as_mapping else frozenset({agent})

    work = [WaitingConversation(conversation_id=cid, channel="webchat",
                                skills=frozenset({Skill(QUEUE_MIX[q][0])}), priority=p, queued_ms=qms,
                                declined_by=declined(rng))
            for cid, q, p, qms in conversation_plan(n_decisions, rng, now_ms)]
    times: list[float] = []
    none = 0
    clock = time.perf_counter_ns
    for w in work[:200]:  # warm caches
        select_agent(agents, w, now_ms=now_ms, presence_ttl_ms=PRESENCE_TTL_MS, **extra)
    for w in work:
        t = clock()
        chosen = select_agent(agents, w, now_ms=now_ms, presence_ttl_ms=PRESENCE_TTL_MS, **extra)
        times.append((clock() - t) / 1e9)
        none += chosen is None
    eligible = sum(1 for a in agents if a.status is AgentStatus.AVAILABLE)
    return {"agents": n_agents, "decisions": n_decisions, "available_agents": eligible,
            "no_agent_found": none, "decision_us": stats(times, 1e6),
            "decisions_per_s": int(n_decisions / sum(times))}


# ---------------------------------------------------------------------------------------------
# (c) baseline: naive dict-based assignment, no I/O
# ---------------------------------------------------------------------------------------------

def bench_naive(plan: list[tuple[str, str, int, int]], n_agents: int, capacity: int,
                rng: random.Random) -> dict[str, Any]:
    agents = {f"a_{i:04d}": {"skills": set(agent_skills(rng)), "cap": capacity, "load": 0, "last": 0}
              for i in range(n_agents)}
    work = sorted(plan, key=lambda w: (-w[2], w[3]))
    assigned: dict[str, str] = {}
    times: list[float] = []
    clock = time.perf_counter_ns
    t_all = time.perf_counter()
    for n, (cid, queue, _prio, _qms) in enumerate(work):
        t = clock()
        need = QUEUE_MIX[queue][0]
        best, best_key = None, None
        for aid, a in agents.items():
            if need in a["skills"] and a["load"] < a["cap"]:
                key = (a["load"] / a["cap"], a["load"], a["last"], aid)
                if best_key is None or key < best_key:
                    best, best_key = aid, key
        if best is not None:
            agents[best]["load"] += 1
            agents[best]["last"] = n
            assigned[cid] = best
        times.append((clock() - t) / 1e9)
    total = time.perf_counter() - t_all
    return {"assigned": len(assigned), "total_s": round(total, 3),
            "assignments_per_s": int(len(assigned) / total), "per_assignment_us": stats(times, 1e6)}


# ---------------------------------------------------------------------------------------------
# (b) end to end through Redis + MongoDB
# ---------------------------------------------------------------------------------------------

def proc_cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_jiffies() -> tuple[int, int]:
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(parts) - parts[3] - parts[4], sum(parts)


class CpuShare:
    """CPU % (of one core) of this process, SecantusDB, redis and everything else during a phase."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.t0 = time.perf_counter()
        self.c0 = {n: proc_cpu_s(p) for n, p in pids.items()} | {"benchmark_process": time.process_time()}
        self.m0 = machine_jiffies()

    def stop(self) -> dict[str, float]:
        wall = time.perf_counter() - self.t0
        used = {n: proc_cpu_s(p) - self.c0[n] for n, p in self.pids.items()}
        used["benchmark_process"] = time.process_time() - self.c0["benchmark_process"]
        busy, total = machine_jiffies()
        machine = (busy - self.m0[0]) / max(total - self.m0[1], 1) * (os.cpu_count() or 1)
        out = {f"{n}_pct_of_1_core": round(100 * v / wall, 1) for n, v in used.items()}
        out["other_processes_pct_of_1_core"] = round(max(0.0, 100 * (machine - sum(used.values()) / wall)), 1)
        return out


async def mongo_ops(db: Any) -> dict[str, int]:
    """SecantusDB's ``serverStatus`` opcounters (one per command: an insert_many is one insert)."""
    try:
        status = await db.client.admin.command("serverStatus")
    except Exception:  # an engine without serverStatus: no op counts
        return {}
    return {k: int(v) for k, v in status.get("opcounters", {}).items()}


async def redis_commands(url: str) -> int:
    """Commands redis-server has processed (a script call counts one, a pipeline one per command)."""
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        return int((await client.info("stats"))["total_commands_processed"])
    finally:
        await client.aclose()


class Timed:
    """Wrap an async method on one instance and record its durations."""

    def __init__(self, target: Any, name: str) -> None:
        self.inner = getattr(target, name)
        self.times: list[float] = []
        self.results: list[Any] = []
        setattr(target, name, self)

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        result = await self.inner(*args, **kwargs)
        self.times.append(time.perf_counter() - t)
        self.results.append(result)
        return result


@contextlib.asynccontextmanager
async def wired(mongo_url: str, redis_url: str, db_name: str) -> AsyncIterator[dict[str, Any]]:
    """A whole hub in this process (``hub.bootstrap.running_hub``, as the tests start it), with
    its background assigner task cancelled so that only the benchmark calls ``assign_round``."""
    from hub.bootstrap import running_hub
    from hub.config import EmbeddedSettings, HttpSettings, RoutingSettings, Settings
    from hub.storage.database import connect

    settings = Settings(mongo_db=db_name, http=HttpSettings(host="127.0.0.1", port=0),
                        # Offers never time out during the run; presence stays fresh throughout.
                        routing=RoutingSettings(offer_timeout_s=3600, presence_ttl_s=3600, tick_s=0.5),
                        embedded=EmbeddedSettings())
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as hub:
        assigners = [t for t in asyncio.all_tasks() if t.get_name() == "routing:assigner"]
        if len(assigners) != 1:
            raise RuntimeError("could not find the hub's 'routing:assigner' task to stop it; "
                               "hub/bootstrap.py changed: update bench/assignment.py")
        assigners[0].cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await assigners[0]
        routing = hub.routing
        client = connect(mongo_url)  # the benchmark's own client, for bulk set-up and checks
        try:
            yield {"db": client[db_name], "routing": routing, "directory": hub.context.directory,
                   "store": routing._store, "conversations": hub.context.conversations,
                   "transitions": hub.transitions}
        finally:
            await client.close()


async def bench_end_to_end(plan: list[tuple[str, str, int, int]], n_agents: int, capacity: int,
                           rng: random.Random) -> dict[str, Any]:
    from hub.admin import load_demo
    from hub.clock import from_ms
    from hub.domain.model import Agent, Conversation
    from hub.domain.states import ConversationState
    from hub.embedded import start_redis, start_secantus, stop
    from hub.passwords import hash_password
    from routing.rounds import ROUND_LIMIT_PER_QUEUE

    LOGS.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"conversations": len(plan), "agents": n_agents, "capacity_per_agent": capacity,
                           "total_capacity": n_agents * capacity, "round_limit_per_queue": ROUND_LIMIT_PER_QUEUE}
    mongo_svc = start_secantus(None, LOGS / "assignment-secantus.log")
    try:
        redis_svc = start_redis(None, LOGS / "assignment-redis.log")
        try:
            async with wired(mongo_svc.url, redis_svc.url, "bench_acd") as hub:
                db, routing, directory = hub["db"], hub["routing"], hub["directory"]
                await load_demo(directory)  # queues (and the 5 demo agents, who stay offline)

                # -- 500 agents in the directory (one shared password hash: argon2 x 500 is not the point)
                t = time.perf_counter()
                password_hash = await asyncio.to_thread(hash_password, "bench-password-1")
                agents = [Agent(id=AgentId(f"a_bench{i:04d}"), username=f"acd{i:04d}",
                                display_name=f"ACD Agent {i}", role=Role.AGENT,
                                skills=agent_skills(rng), capacity={"webchat": capacity, "voice": 1},
                                password_hash=password_hash, status=AgentStatus.AVAILABLE)
                          for i in range(n_agents)]
                await db["agents"].insert_many([{
                    "_id": a.id, "username": a.username, "display_name": a.display_name, "role": "agent",
                    "skills": sorted(a.skills), "capacity": dict(a.capacity), "password_hash": password_hash,
                    "status": "available"} for a in agents])

                # -- 10,000 queued conversations, stored as ConversationService would have left them
                queues = {q.id: q for q in await directory.queues()}
                docs, events, convs = [], [], []
                for cid, queue, _prio, queued_ms in plan:
                    q = queues[queue]
                    queued_at = from_ms(queued_ms)
                    created = queued_at - timedelta(milliseconds=5)
                    docs.append({"_id": cid, "contact_id": f"k_{cid}", "contact_name": "Bench customer",
                                 "channel": "webchat", "state": "queued", "version": 1, "queue": q.id,
                                 "priority": q.priority, "skills": sorted(q.skills), "agent_id": None,
                                 "created_at": created, "updated_at": queued_at, "queued_at": queued_at,
                                 "language": "en", "preview": "", "unread": 0})
                    for version, kind, frm, to, at in ((0, "created", None, "new", created),
                                                       (1, "queued", "new", "queued", queued_at)):
                        events.append({"_id": f"{cid}:{version}", "conversation_id": cid, "version": version,
                                       "type": kind, "from_state": frm, "to_state": to, "at": at,
                                       "channel": "webchat", "queue": q.id, "agent_id": None, "actor": "system",
                                       "detail": {}, "changes": {}})
                    convs.append(Conversation(
                        id=cid, contact_id=f"k_{cid}", channel="webchat",  # type: ignore[arg-type]
                        state=ConversationState.QUEUED, version=1, queue=q.id, priority=q.priority,
                        skills=q.skills, agent_id=None, created_at=created, updated_at=queued_at,
                        queued_at=queued_at))
                for i in range(0, len(docs), 1000):
                    await db["conversations"].insert_many(docs[i:i + 1000])
                    await db["events"].insert_many(events[2 * i:2 * i + 2000])
                out["setup_mongo_s"] = round(time.perf_counter() - t, 2)

                t = time.perf_counter()
                for conv in convs:  # the Router port, as ConversationService calls it
                    await routing.enqueue(conv)
                out["enqueue_s"] = round(time.perf_counter() - t, 2)
                out["enqueues_per_s"] = int(len(convs) / (time.perf_counter() - t))
                t = time.perf_counter()
                for agent in agents:
                    await routing.set_presence(agent, AgentStatus.AVAILABLE)
                out["presence_s"] = round(time.perf_counter() - t, 2)
                await asyncio.sleep(0.2)  # let the bus listener swallow the kicks

                # -- instrument, then assign until everything is offered
                store, transitions = hub["store"], hub["transitions"]
                claim = Timed(store, "claim_many" if hasattr(store, "claim_many") else "claim")
                transition = Timed(transitions, "transition_many" if hasattr(transitions, "transition_many")
                                   else "transition")
                published: list[float] = []  # when each OfferMade was handed to the bus
                real_tell = routing._tell

                async def timed_tell(fact: Any) -> None:
                    if type(fact).__name__ == "OfferMade":
                        published.append(time.perf_counter())
                    await real_tell(fact)

                routing._tell = timed_tell
                latencies: list[float] = []
                rounds: list[dict[str, Any]] = []
                offered = 0
                ops0, redis0 = await mongo_ops(db), await redis_commands(redis_svc.url)
                cpu = CpuShare({"secantus": mongo_svc.process.pid, "redis": redis_svc.process.pid})
                t_all = time.perf_counter()
                while offered < len(plan):
                    t = time.perf_counter()
                    n_before = len(published)
                    made = await routing.assign_round()
                    wall = time.perf_counter() - t
                    latencies.extend(p - t for p in published[n_before:])
                    rounds.append({"offers": made, "wall_s": round(wall, 3)})
                    offered += made
                    if made == 0:
                        break
                total = time.perf_counter() - t_all
                out["cpu_during_rounds"] = cpu.stop()
                ops1, redis1 = await mongo_ops(db), await redis_commands(redis_svc.url)
                per_offer = max(offered, 1)
                out["cpu_ms_per_offer"] = {n.removesuffix("_pct_of_1_core"): round(pct_ * total * 10 / per_offer, 3)
                                           for n, pct_ in out["cpu_during_rounds"].items()
                                           if n != "other_processes_pct_of_1_core"}
                out["mongo_ops_per_offer"] = {k: round((ops1.get(k, 0) - v) / per_offer, 2) for k, v in ops0.items()}
                out["redis_commands_per_offer"] = round((redis1 - redis0) / per_offer, 2)

                # -- correctness: Mongo and Redis agree, nobody over capacity
                in_mongo = await db["conversations"].count_documents({"state": "offered"})
                snapshots = await hub["store"].agents()
                loads = [a.load_on("webchat") for a in snapshots]
                out.update({
                    "offered": offered, "offered_in_mongo": in_mongo,
                    "still_waiting": len(plan) - offered,
                    "agent_load_sum": sum(loads), "agents_over_capacity": sum(1 for x in loads if x > capacity),
                    "max_agent_load": max(loads) if loads else 0,
                    "rounds": len(rounds), "total_s": round(total, 2),
                    "assignments_per_s": round(offered / total, 1) if total else None,
                    "offer_latency_ms": stats(latencies, 1e3),
                    "claim_calls": len(claim.times), "claim_ms": stats(claim.times, 1e3),
                    "time_in_claims_s": round(sum(claim.times), 2),
                    "transition_calls": len(transition.times), "transition_ms": stats(transition.times, 1e3),
                    "time_in_transitions_s": round(sum(transition.times), 2),
                    "round_detail": rounds,
                })
        finally:
            stop(redis_svc)
    finally:
        stop(mongo_svc)
    return out


# ---------------------------------------------------------------------------------------------







def fmt(v: Any) -> str:
    return "-" if v is None else f"{v:,.2f}" if isinstance(v, float) else f"{v:,}"


def print_report(r: dict[str, Any]) -> None:
    d, e, b = r["decision"], r["end_to_end"], r["baseline"]
    print(f"\n(a) select_agent over {d['agents']} agents, {d['decisions']} decisions on one snapshot")
    print(f"    p50 {fmt(d['decision_us']['p50'])} µs   p99 {fmt(d['decision_us']['p99'])} µs   "
          f"max {fmt(d['decision_us']['max'])} µs   => {fmt(d['decisions_per_s'])} decisions/s "
          f"(no agent found: {d['no_agent_found']})")
    print(f"\n(b) end to end: {e['conversations']:,} conversations, {e['agents']} agents x capacity "
          f"{e['capacity_per_agent']} (= {e['total_capacity']:,}), Redis + SecantusDB")
    print(f"    setup: mongo {e['setup_mongo_s']} s, enqueue {e['enqueue_s']} s ({fmt(e['enqueues_per_s'])}/s), "
          f"presence {e['presence_s']} s")
    print(f"    offered {e['offered']:,} in {e['rounds']} rounds, {e['total_s']} s  =>  "
          f"{fmt(e['assignments_per_s'])} assignments/s   (still waiting: {e['still_waiting']})")
    la, cl, tr = e["offer_latency_ms"], e["claim_ms"], e["transition_ms"]
    print(f"    offer latency (round start -> OfferMade published): p50 {fmt(la['p50'])} ms  "
          f"p99 {fmt(la['p99'])} ms  max {fmt(la['max'])} ms")
    print(f"    Redis claim calls: {e['claim_calls']:,}, p50 {fmt(cl['p50'])} ms, total {e['time_in_claims_s']} s")
    print(f"    MongoDB transition calls (+ their facts): {e['transition_calls']:,}, p50 {fmt(tr['p50'])} ms, "
          f"total {e['time_in_transitions_s']} s")
    print(f"    per offer: MongoDB ops {e['mongo_ops_per_offer']}, Redis commands {e['redis_commands_per_offer']}")
    print(f"    cpu during the rounds (% of one core): {e['cpu_during_rounds']}")
    print(f"    cpu ms per offer: {e['cpu_ms_per_offer']}")
    print(f"    check: offered in Mongo {e['offered_in_mongo']:,}, Redis load sum {e['agent_load_sum']:,}, "
          f"agents over capacity {e['agents_over_capacity']}, max load {e['max_agent_load']}")
    print(f"\n(c) naive dict-based baseline (same rules, no I/O): {fmt(b['assignments_per_s'])} assignments/s, "
          f"p50 {fmt(b['per_assignment_us']['p50'])} µs  p99 {fmt(b['per_assignment_us']['p99'])} µs")
    ratios = r["ratios"]
    thr = ratios["assignments_per_s_hub_over_baseline"]
    print(f"\nhub / baseline: throughput {thr:.5f}x (the naive baseline assigns {1 / thr:,.0f}x faster), "
          f"per-assignment p50 {fmt(ratios['p50_hub_over_baseline'])}x, p99 {fmt(ratios['p99_hub_over_baseline'])}x")
    print(f"select_agent p50 / naive-scan p50: {fmt(ratios['select_agent_p50_over_naive_p50'])}x")


async def main_async(args: argparse.Namespace) -> int:
    n_conv = args.conversations or (2000 if args.quick else 10_000)
    rng = random.Random(args.seed)
    started = time.perf_counter()
    print(f"assignment: {n_conv:,} conversations, {args.agents} agents; load average "
          f"{loadavg()}", flush=True)
    cpu0 = time.process_time()
    decision = bench_decision(args.agents, n_conv, random.Random(args.seed))
    print(f"  (a) done: select_agent p50 {decision['decision_us']['p50']} µs", flush=True)
    capacity = max(1, math.ceil(n_conv * 1.2 / args.agents))
    plan = conversation_plan(n_conv, rng, int(time.time() * 1000))
    baseline = bench_naive(plan, args.agents, capacity, random.Random(args.seed + 1))
    print(f"  (c) done: naive {baseline['assignments_per_s']:,.0f} assignments/s", flush=True)
    end_to_end = await bench_end_to_end(plan, args.agents, capacity, random.Random(args.seed + 1))
    print(f"  (b) done: {end_to_end['assignments_per_s']} assignments/s", flush=True)
    results = {
        "benchmark": "assignment",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "calibration_loop_s": calibrate(),
        "git": git_state(),
        "config": {"code_dir": str(CODE), "conversations": n_conv, "agents": args.agents, "seed": args.seed,
                   "quick": args.quick,
                   "queue_mix": {q: share for q, (_, _, share) in QUEUE_MIX.items()},
                   "agent_extra_skill_probability": EXTRA_SKILLS},
        "decision": decision,
        "end_to_end": end_to_end,
        "baseline": baseline,
        "ratios": {
            "assignments_per_s_hub_over_baseline": _ratio(end_to_end["assignments_per_s"],
                                                          baseline["assignments_per_s"], 5),
            "p50_hub_over_baseline": _ratio(end_to_end["offer_latency_ms"]["p50"],
                                            baseline["per_assignment_us"]["p50"] / 1000),
            "p99_hub_over_baseline": _ratio(end_to_end["offer_latency_ms"]["p99"],
                                            baseline["per_assignment_us"]["p99"] / 1000),
            "select_agent_p50_over_naive_p50": _ratio(decision["decision_us"]["p50"],
                                                      baseline["per_assignment_us"]["p50"]),
        },
        "notes": [
            "Single process: the benchmark drives RoutingService directly; redis-server and SecantusDB "
            "run as separate processes on the same 2 cores.",
            "Conversations are inserted into MongoDB directly in the shape ConversationService leaves "
            "them (state queued, version 1, created+queued events) and enqueued with RoutingService.enqueue.",
            "Agents share one precomputed password hash (routing never reads it).",
            f"CPU of this process during the run: {time.process_time() - cpu0:.1f} s",
        ],
    }
    results["elapsed_s"] = round(time.perf_counter() - started, 1)
    print_report(results)
    write_json(Path(args.out), results)
    print(f"\nwrote {args.out} (total {results['elapsed_s']:.0f}s)")
    return 0


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str))


def _ratio(a: float | None, b: float | None, digits: int = 2) -> float | None:
    if a is None or not b:
        return None
    return round(a / b, digits)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--conversations", type=int, default=0, help="default 10,000 (quick: 2,000)")
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=str(RESULTS / "assignment.json"))
    parser.add_argument("--code", default=str(ROOT), help="measure the hub in this directory (another commit's "
                        "export; see code_dir)")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
