"""Hostile widget traffic beside real customers: does an attack cost them errors or latency?

Run:  .venv/bin/python bench/hostile_text.py [--quick] [--json PATH] [--attacks surrogate,hello-flood]

Each attack is measured in three phases, each on a freshly started system (in-memory SecantusDB,
private redis-server, ``python -m hub serve`` with external URLs and a random HUB_SECRET_KEY; the
environment of webchat_roundtrip.hub_env):

* **A**, baseline: 20 customers (widget sockets: hello, one opening message, then a message every
  0.5-1 s on a fixed, seeded schedule: open loop, the ack latency counts from the scheduled time)
  for 30 s (``--quick``: 10 s), no attack;
* **B**, the same customers on the same schedule while 4 attacking sockets run in their own process
  (bench/hostile_attacker.py): ``surrogate``, frames ``{"type":"message","client_id":…,
  "text":"x \\ud800 y"}`` back to back, each after the hub's answer to the previous one; or
  ``hello-flood``, hello with visitor null and a first message, again and again, connecting again
  whenever the hub closes the socket. For the hello flood the per-address limits are the shipped
  ones and every customer and the attacker have their own client address (X-Forwarded-For through
  a trusted proxy, 127.0.0.1); for the surrogate attack they are raised as in webchat_roundtrip;
* **A2**, the baseline again: how much two runs without an attack differ here (noise).

Per phase: customer acks, errors by code, ack latency p50/p90/p99/max, attack frames and the hub's
answers by code, CPU seconds per process, the hub's log complaints; after each phase a MongoDB
audit (conversations without a customer message, stored text that is not valid Unicode).
Results: stdout and ``bench/results/hostile_text.json`` (``--json``); logs in bench/results/logs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import WSMsgType

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from hostile_report import print_phase, print_scenario, verdict  # noqa: E402  (bench/ is the script's folder)
from runinfo import ROOT, calibrate, child, git_state, machine  # noqa: E402
from webchat_roundtrip import (  # noqa: E402
    CLK_TCK,
    hub_env,
    loadavg,
    proc_cpu_s,
    summary_ms,
    system_busy,
    wait_for_quiet,
    wait_http,
    wait_until,
    write_json,
)

RESULTS = ROOT / "bench" / "results"
LOGS = RESULTS / "logs"
ATTACKER = BENCH / "hostile_attacker.py"
CUSTOMER_NET = "198.51.100"  # TEST-NET-2: each customer claims 198.51.100.<n+1>

# What each attack changes in the hub's environment (on top of webchat_roundtrip.hub_env).
# Both attacks run against the shipped limits (None: unset hub_env's raised ones), with 127.0.0.1
# as the trusted proxy so that every simulated client counts against its own address.
SHIPPED_LIMITS: dict[str, str | None] = {
    "HUB_WEBCHAT__IDENTITIES_BURST": None, "HUB_WEBCHAT__CONVERSATIONS_BURST": None,
    "HUB_WEBCHAT__CONNECTIONS_BURST": None, "HUB_WEBCHAT__FRAMES_PER_SECOND": None,
    "HUB_HTTP__TRUSTED_PROXIES": '["127.0.0.1"]'}
SCENARIO_ENV: dict[str, dict[str, str | None]] = {"surrogate": SHIPPED_LIMITS, "hello-flood": SHIPPED_LIMITS}
# The shipped defaults (hub/config.py WebChatSettings) the hello flood runs against.
ADDRESS_BURST, ADDRESS_PER_MINUTE = 20, 10.0


@dataclass(frozen=True)
class Plan:
    customers: int
    attackers: int
    seconds: float
    drain_s: float
    seed: int
    quiet_wait_s: float
    tolerance: float
    attacker_nice: int = 0


@dataclass(frozen=True)
class Hub:
    base_url: str
    mongo_url: str
    pids: dict[str, int]
    log: Path


@dataclass
class Tally:
    """The customers' side of one phase."""

    sent: int = 0
    latencies: list[float] = field(default_factory=list)  # ack - scheduled time, measured messages
    lags: list[float] = field(default_factory=list)  # actual send - scheduled time
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, key: str) -> None:
        self.errors[key] = self.errors.get(key, 0) + 1


class Customer:
    """One widget: hello, an opening message, then messages on its own schedule; acks timed."""

    def __init__(self, index: int, tally: Tally) -> None:
        self.index = index
        self.tally = tally
        self.pending: dict[str, float] = {}  # client_id -> scheduled time (perf_counter)
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.reader: asyncio.Task[None] | None = None
        self.closing = False

    async def start(self, http: aiohttp.ClientSession, base_url: str) -> None:
        headers = {"X-Forwarded-For": f"{CUSTOMER_NET}.{self.index + 1}"}
        self.ws = await http.ws_connect(base_url.replace("http", "ws", 1) + "/webchat/ws", headers=headers,
                                        max_msg_size=0)
        await self.ws.send_json({"type": "hello", "visitor": None, "name": f"Customer {self.index}"})
        msg = await self.ws.receive(timeout=30)
        if msg.type is not WSMsgType.TEXT or json.loads(msg.data).get("type") != "welcome":
            raise RuntimeError(f"customer {self.index}: no welcome ({msg.data!r})")
        self.reader = asyncio.create_task(self._read(), name=f"bench:customer:{self.index}")
        await self.send(f"open{self.index:04d}x{secrets.token_hex(4)}", "Hello, my power is out", time.perf_counter())

    async def send(self, client_id: str, text: str, scheduled: float) -> None:
        assert self.ws is not None
        self.pending[client_id] = scheduled
        try:
            await self.ws.send_str(json.dumps({"type": "message", "client_id": client_id, "text": text}))
        except (ConnectionError, RuntimeError) as err:
            self.pending.pop(client_id, None)
            self.tally.error(f"send_failed:{type(err).__name__}")

    async def run(self, t0: float, end: float, rng: random.Random) -> None:
        """Send on a fixed schedule (0.5-1 s apart) from ``t0`` until ``end``, whatever the answers."""
        due, n = t0 + rng.uniform(0.0, 1.0), 0
        while due < end:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            self.tally.lags.append(time.perf_counter() - due)
            self.tally.sent += 1
            await self.send(f"c{self.index:03d}m{n:06d}", f"Question {n} about my bill", due)
            due, n = due + rng.uniform(0.5, 1.0), n + 1

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type is not WSMsgType.TEXT:
                break
            frame = json.loads(msg.data)
            kind, client_id = frame.get("type"), frame.get("client_id", "")
            if kind == "ack" and client_id in self.pending:
                scheduled = self.pending.pop(client_id)
                if client_id.startswith("c"):  # not the opening message
                    self.tally.latencies.append(time.perf_counter() - scheduled)
            elif kind == "error":
                self.pending.pop(client_id, None)
                self.tally.error(str(frame.get("code")))
        if not self.closing:
            self.tally.error("socket_closed")

    async def close(self) -> None:
        self.closing = True
        if self.reader is not None:
            self.reader.cancel()
        if self.ws is not None:
            await self.ws.close()


class CpuSeconds:
    """CPU seconds of named processes, of this one (the generator) and of everything else."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self._cpu0: dict[str, float] = {}
        self._busy0 = 0.0
        self._t0 = 0.0

    def start(self) -> None:
        self._cpu0 = {name: proc_cpu_s(pid) for name, pid in self.pids.items()}
        self._cpu0["generator"] = time.process_time()
        self._busy0 = system_busy()[0]
        self._t0 = time.perf_counter()

    def stop(self) -> dict[str, float]:
        used = {name: proc_cpu_s(pid) - self._cpu0[name] for name, pid in self.pids.items()}
        used["generator"] = time.process_time() - self._cpu0["generator"]
        machine_s = (system_busy()[0] - self._busy0) / CLK_TCK
        used["other"] = max(0.0, machine_s - sum(used.values()))  # other users' jobs: noise
        used["machine"] = machine_s
        used["wall"] = time.perf_counter() - self._t0
        return {name: round(seconds, 2) for name, seconds in used.items()}


def scenario_env(scenario: str, mongo_url: str, redis_url: str, port: int) -> dict[str, str]:
    env = hub_env(mongo_url, redis_url, port)  # HUB_SECRET_KEY: a new random one for every hub
    for key, value in SCENARIO_ENV[scenario].items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


@contextlib.asynccontextmanager
async def fresh_hub(scenario: str) -> AsyncIterator[Hub]:
    """New SecantusDB, redis-server, demo data and ``python -m hub serve``; all stopped afterwards."""
    from hub.admin import load_demo
    from hub.embedded import free_port, start_redis, start_secantus, stop
    from hub.storage.database import connect, ensure_indexes
    from hub.storage.directory import MongoDirectory

    mongo = start_secantus(None, LOGS / "hostile-secantus.log")
    redis = None
    try:
        redis = start_redis(None, LOGS / "hostile-redis.log")
        client = connect(mongo.url)
        try:
            await ensure_indexes(client["bench"])
            await load_demo(MongoDirectory(client["bench"]))
        finally:
            await client.close()
        port = free_port()
        env = scenario_env(scenario, mongo.url, redis.url, port)
        with child([sys.executable, "-m", "hub", "serve"], env, LOGS / "hostile-hub.log") as process:
            base_url = f"http://127.0.0.1:{port}"
            await wait_http(base_url + "/api/queues", process)
            yield Hub(base_url=base_url, mongo_url=mongo.url, log=LOGS / "hostile-hub.log",
                      pids={"hub": process.pid, "secantus": mongo.process.pid, "redis": redis.process.pid})
    finally:
        if redis is not None:
            stop(redis)
        stop(mongo)


async def audit(mongo_url: str) -> dict[str, int]:
    """What is stored: conversations without a customer message, documents holding text that is not
    valid Unicode (read with surrogateescape, so even bytes UTF-8 forbids show up instead of failing)."""
    from bson.codec_options import CodecOptions

    from hub.domain.text import invalid_text_path
    from hub.storage.database import connect

    client = connect(mongo_url)
    try:
        db = client["bench"]
        lenient: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True,
                                                             unicode_decode_error_handler="surrogateescape")
        conversations = {d["_id"] async for d in db["conversations"].find({}, {"_id": 1})}
        spoken = {d["conversation_id"] async for d in db["messages"].find({"inbound": True}, {"conversation_id": 1})}
        result = {"conversations": len(conversations), "conversations_without_customer_message":
                  len(conversations - spoken), "customer_messages": await db["messages"].count_documents(
                      {"inbound": True}), "contacts": await db["contacts"].count_documents({})}
        for name in ("messages", "conversations", "contacts"):
            collection = db.get_collection(name, codec_options=lenient)
            result[f"{name}_with_invalid_text"] = sum(
                [1 async for doc in collection.find({}) if invalid_text_path(doc) is not None])
        return result
    finally:
        await client.close()


def scan_log(path: Path, offset: int) -> dict[str, int]:
    with path.open("rb") as log:
        log.seek(offset)
        text = log.read().decode("utf-8", "replace")
    keys = ("webchat.frame.failed", "webchat.connection.cap", "webchat.address.limited", "Traceback")
    return {"error_lines": text.count(" ERROR "), "warning_lines": text.count(" WARNING "),
            **{key: text.count(key) for key in keys}}


async def open_customers(hub: Hub, http: aiohttp.ClientSession, plan: Plan, tally: Tally) -> list[Customer]:
    """Connect every customer and open its conversation (not measured); wait for every opening ack."""
    customers = [Customer(i, tally) for i in range(plan.customers)]
    await asyncio.gather(*(c.start(http, hub.base_url) for c in customers))
    opened = await wait_until(lambda: not any(c.pending for c in customers), within_s=60)
    if not opened or tally.errors:
        raise RuntimeError(f"customers could not open their conversations: {tally.errors}")
    return customers


async def drain(customers: list[Customer], within_s: float) -> int:
    """Wait for outstanding acks; return how many never came."""
    await wait_until(lambda: not any(c.pending for c in customers), within_s=within_s)
    return sum(len(c.pending) for c in customers)


@contextlib.contextmanager
def attacker(kind: str | None, hub: Hub, plan: Plan, start_epoch: float, out: Path
             ) -> Iterator[subprocess.Popen[bytes] | None]:
    """The attacking process (or nothing, for a baseline phase)."""
    if kind is None:
        yield None
        return
    out.unlink(missing_ok=True)
    command = ["nice", "-n", str(plan.attacker_nice)] if plan.attacker_nice else []
    command += [sys.executable, str(ATTACKER), kind, hub.base_url, "--sockets", str(plan.attackers),
               "--start", f"{start_epoch:.3f}", "--seconds", f"{plan.seconds + 1.5:.1f}", "--out", str(out)]
    with child(command, dict(os.environ), LOGS / "hostile-attacker.log") as process:
        yield process


async def measure(hub: Hub, plan: Plan, attack: str | None, label: str) -> dict[str, Any]:
    """One phase on a fresh hub: customers open, (the attack starts 1 s before) the measured window."""
    tally = Tally()
    out = LOGS / f"hostile-attack-{label}.json"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        customers = await open_customers(hub, http, plan, tally)
        speed = calibrate()
        t0 = time.perf_counter() + 3.0  # time for the attacker process to start
        with attacker(attack, hub, plan, time.time() + 2.0, out) as process:
            pids = dict(hub.pids) | ({"attacker": process.pid} if process else {})
            meter = CpuSeconds(pids)
            await asyncio.sleep(max(0.0, t0 - time.perf_counter()))
            meter.start()
            rngs = [random.Random(plan.seed * 1000 + c.index) for c in customers]
            await asyncio.gather(*(c.run(t0, t0 + plan.seconds, rng) for c, rng in zip(customers, rngs, strict=True)))
            cpu = meter.stop()
            unanswered = await drain(customers, plan.drain_s)
            if process is not None:
                await asyncio.to_thread(process.wait, 30)
        await asyncio.gather(*(c.close() for c in customers), return_exceptions=True)
    if unanswered:
        tally.errors["no_answer"] = unanswered
    return {"calibration_loop_s": speed, "customers": customer_summary(tally), "cpu_s": cpu,
            "attack": json.loads(out.read_text()) if attack and out.exists() else None}


def customer_summary(tally: Tally) -> dict[str, Any]:
    return {"sent": tally.sent, "acks": len(tally.latencies), "errors": dict(tally.errors),
            "error_count": sum(tally.errors.values()), "ack_latency_ms": summary_ms(tally.latencies),
            "send_lag_ms": summary_ms(tally.lags)}


async def run_phase(scenario: str, phase: str, plan: Plan) -> dict[str, Any]:
    background, waited = await wait_for_quiet(plan.quiet_wait_s)
    result: dict[str, Any] = {"phase": phase, "attack": scenario if phase == "B" else None,
                              "load_before": loadavg(), "other_cpu_before_pct_of_1_core": background,
                              "waited_for_quiet_s": waited}
    log = LOGS / "hostile-hub.log"
    offset = log.stat().st_size if log.exists() else 0
    async with fresh_hub(scenario) as hub:
        result |= await measure(hub, plan, result["attack"], f"{scenario}-{phase}")
        result["stored"] = await audit(hub.mongo_url)
    result["hub_log"] = scan_log(log, offset)
    print_phase(scenario, result)
    return result


async def run_scenario(scenario: str, plan: Plan, repeat: bool) -> dict[str, Any]:
    phases = [await run_phase(scenario, phase, plan) for phase in (["A", "B", "A2"] if repeat else ["A", "B"])]
    limits = {"address_burst": ADDRESS_BURST, "address_per_minute": ADDRESS_PER_MINUTE}
    result: dict[str, Any] = {"scenario": scenario, "phases": phases}
    result["verdict"] = verdict(scenario, phases, plan.tolerance, limits if scenario == "hello-flood" else None)
    print_scenario(result)
    return result


async def main_async(args: argparse.Namespace) -> int:
    LOGS.mkdir(parents=True, exist_ok=True)
    for name in ("hostile-hub.log", "hostile-attacker.log", "hostile-secantus.log", "hostile-redis.log"):
        (LOGS / name).unlink(missing_ok=True)
    plan = Plan(customers=args.customers, attackers=args.attackers,
                seconds=args.seconds or (10.0 if args.quick else 30.0), drain_s=args.drain, seed=args.seed,
                quiet_wait_s=args.quiet_wait, tolerance=args.tolerance, attacker_nice=args.attacker_nice)
    started = time.perf_counter()
    results: dict[str, Any] = {
        "benchmark": "hostile_text", "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(), "load_before_start": loadavg(), "calibration_loop_s": calibrate(),
        "git": git_state(), "config": {**plan.__dict__, "quick": args.quick, "repeat_baseline": not args.no_repeat},
        "scenarios": []}
    print(f"hostile_text: {plan.customers} customers, {plan.attackers} attacking sockets, {plan.seconds:.0f} s "
          f"phases; load average {' '.join(results['load_before_start'])}", flush=True)
    for scenario in [s.strip() for s in args.attacks.split(",") if s.strip()]:
        results["scenarios"].append(await run_scenario(scenario, plan, not args.no_repeat))
    results["elapsed_s"] = round(time.perf_counter() - started, 1)
    write_json(Path(args.json), results)
    print(f"\nwrote {args.json} (total {results['elapsed_s']:.0f} s)")
    return 0 if all(s["verdict"]["pass"] for s in results["scenarios"]) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="10 s phases instead of 30 s")
    parser.add_argument("--json", default=str(RESULTS / "hostile_text.json"), help="where to write the results")
    parser.add_argument("--attacks", default="surrogate,hello-flood", help="comma-separated: surrogate, hello-flood")
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--attackers", type=int, default=4, help="attacking sockets")
    parser.add_argument("--seconds", type=float, default=0.0, help="seconds per phase (default 30; quick 10)")
    parser.add_argument("--drain", type=float, default=10.0, help="seconds to wait for the last acks")
    parser.add_argument("--seed", type=int, default=7, help="the customers' send schedule")
    parser.add_argument("--tolerance", type=float, default=0.25,
                        help="B's p50/p99 may exceed the higher baseline's by this fraction and still pass")
    parser.add_argument("--attacker-nice", type=int, default=0,
                        help="run the attacking process under nice N (on a small machine it competes for the "
                             "cores with the hub; in reality it is somewhere else)")
    parser.add_argument("--no-repeat", action="store_true", help="skip A2, the baseline after the attack")
    parser.add_argument("--quiet-wait", type=float, default=0.0,
                        help="before each phase wait up to this long for other processes to calm down")
    args = parser.parse_args()
    unknown = {s.strip() for s in args.attacks.split(",")} - set(SCENARIO_ENV)
    if unknown:
        parser.error(f"unknown attack(s): {', '.join(sorted(unknown))}")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
