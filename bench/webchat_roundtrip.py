"""Web-chat round-trip benchmark: widget -> hub -> agent console -> hub -> widget, open-loop.

Run:  .venv/bin/python bench/webchat_roundtrip.py [--quick] [--rates 50,100,300,1000]

What happens (one run, about 3-4 minutes on 2 cores; ``--quick`` about 1.5):

1. An in-memory SecantusDB and a private redis-server start on free loopback ports
   (``hub.embedded``); the demo data is loaded with ``python -m hub demo`` and N extra agents
   (skill ``general``, webchat capacity >= customers/N) are created with ``hub.admin.create_agent``.
2. The hub runs as ``python -m hub serve`` in its own process (its own event loop).
3. This process is the load generator: N agents log in over HTTP, open ``/console/ws``, go
   available, accept every offer (``POST .../accept``) and answer every customer message at once
   (``POST /api/conversations/{id}/messages`` with ``re:<client_id>``). M widgets connect to
   ``/webchat/ws``, each opens its conversation with one warm-up message, and once all M are
   assigned the widgets send messages at a FIXED OFFERED RATE (open loop: send times are
   scheduled, never paced by answers; latency counts from the scheduled time, so a slow
   generator or hub cannot hide queueing).
4. For every message: customer -> ``ack``; customer -> agent console ``message`` frame;
   customer -> agent's reply ``message`` frame back at the widget (full round trip).
5. The same generator drives a bare aiohttp WebSocket relay (``--relay-server`` mode of this
   file, its own process, no storage, no Redis) speaking the same protocol subset, at the same
   rates, so hub/baseline ratios can be printed. The two take turns at each rate (hub, relay, next
   rate), ``--rounds`` times: the machine's speed drifts within minutes, and the CPU ratio compares
   levels measured a minute apart.

Results: a table on stdout and ``bench/results/webchat.json``; process logs in ``bench/results/logs``.
CPU of every process (generator, hub, SecantusDB, redis, relay) is sampled from /proc per level:
on a 2-core machine the generator competes with what it measures, and the numbers say by how much.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import WSMsgType, web

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from counters import ServerCounters, cpu_ms_per_round_trip, system_busy  # noqa: E402  (bench/ is the script's folder)
from runinfo import calibrate, child, git_state, machine, pct  # noqa: E402

THIS_FILE = Path(__file__).resolve()
RESULTS = ROOT / "bench" / "results"
LOGS = RESULTS / "logs"
PASSWORD = "bench-password-1"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------
# Small utilities
# ---------------------------------------------------------------------------------------------


def summary_ms(seconds: list[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50": _r(pct(ms, 50)), "p90": _r(pct(ms, 90)), "p99": _r(pct(ms, 99)),
            "max": _r(max(ms) if ms else None)}


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def proc_cpu_s(pid: int) -> float:
    """user+system CPU seconds of one process (and its reaped children), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    # fields[0] is state (field 3 of stat); utime/stime are fields 14/15, cutime/cstime 16/17.
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / CLK_TCK


class CpuMeter:
    """CPU used by named processes (and this one) between ``start()`` and ``stop()``."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self._t0 = 0.0
        self._cpu0: dict[str, float] = {}
        self._sys0 = (0.0, 0.0)

    def start(self) -> None:
        self._t0 = time.perf_counter()
        self._cpu0 = {name: proc_cpu_s(pid) for name, pid in self.pids.items()}
        self._cpu0["generator"] = time.process_time()
        self._sys0 = system_busy()

    def stop(self) -> dict[str, float]:
        wall = time.perf_counter() - self._t0
        used = {name: proc_cpu_s(pid) - self._cpu0[name] for name, pid in self.pids.items()}
        used["generator"] = time.process_time() - self._cpu0["generator"]
        busy, total = system_busy()
        out = {f"{name}_pct_of_1_core": round(100 * v / wall, 1) for name, v in used.items()}
        machine = (busy - self._sys0[0]) / max(total - self._sys0[1], 1)
        out["machine_busy_pct_of_all_cores"] = round(100 * machine, 1)
        # Whatever else ran on the machine meanwhile (other users, other benchmarks): noise.
        cores = os.cpu_count() or 1
        out["other_processes_pct_of_1_core"] = round(
            max(0.0, 100 * machine * cores - sum(100 * v / wall for v in used.values())), 1)
        return out


# ---------------------------------------------------------------------------------------------
# The load generator (the same code drives the hub and the baseline relay)
# ---------------------------------------------------------------------------------------------

@dataclass(slots=True)
class Sample:
    level: int
    intended: float
    sent: float = 0.0
    ack: float = 0.0
    agent: float = 0.0
    round_trip: float = 0.0
    bus_in: float = 0.0  # the hub published the customer message (seen by our own bus subscriber)
    bus_reply: float = 0.0  # the hub published the agent's reply


@dataclass
class Stats:
    samples: dict[str, Sample] = field(default_factory=dict)
    accepted: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    http_errors: dict[str, int] = field(default_factory=dict)
    rt_times: list[float] = field(default_factory=list)  # completion instants of every round trip
    ack_times: list[float] = field(default_factory=list)
    outstanding: int = 0

    def error(self, kind: str, bucket: dict[str, int] | None = None) -> None:
        target = self.errors if bucket is None else bucket
        target[kind] = target.get(kind, 0) + 1


class Agent:
    """An agent console: login, live socket, auto-accept and immediate answers."""

    def __init__(self, base_url: str, username: str, stats: Stats) -> None:
        self.base_url = base_url
        self.username = username
        self.stats = stats
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                             connector=aiohttp.TCPConnector(limit=0))
        self.csrf = ""
        self.socket_id = ""  # the hello frame's "socket": sent as the console sends it (ADR 0073)
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self.held: set[str] = set()

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"X-CSRF-Token": self.csrf} if self.csrf else {}
        if self.socket_id:
            headers["X-Console-Socket"] = self.socket_id
        async with self.session.request(method, self.base_url + path, json=body, headers=headers) as resp:
            data = await resp.json(content_type=None)
            return resp.status, data

    async def start(self) -> None:
        status, data = await self.call("POST", "/api/login", {"username": self.username, "password": PASSWORD})
        if status != 200:
            raise RuntimeError(f"login {self.username}: {status} {data}")
        self.csrf = data["csrf_token"]
        self.ws = await self.session.ws_connect(self.base_url.replace("http", "ws", 1) + "/console/ws",
                                                origin=self.base_url, max_msg_size=0)
        self._spawn(self._read())
        self._spawn(self._heartbeat())
        status, data = await self.call("POST", "/api/me/status", {"status": "available"})
        if status != 200:
            raise RuntimeError(f"status {self.username}: {status} {data}")

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _heartbeat(self) -> None:
        assert self.ws is not None
        while not self.ws.closed:
            await asyncio.sleep(10)
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.send_str('{"type":"heartbeat"}')

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type is not WSMsgType.TEXT:
                break
            frame = json.loads(msg.data)
            kind = frame.get("type")
            if kind == "message":
                message = frame["message"]
                if message.get("author") != "customer":
                    continue
                client_id = message.get("client_id") or ""
                sample = self.stats.samples.get(client_id)
                if sample is None:
                    continue  # a warm-up message: not answered
                if not sample.agent:
                    sample.agent = time.perf_counter()
                self._spawn(self._reply(frame["conversation_id"], client_id))
            elif kind == "offer":
                self._spawn(self._accept(frame["conversation"]["id"]))
            elif kind == "hello":
                self.socket_id = str(frame.get("socket") or "")

    async def _accept(self, conversation_id: str) -> None:
        try:
            status, _ = await self.call("POST", f"/api/conversations/{conversation_id}/accept")
        except aiohttp.ClientError as err:
            self.stats.error(f"accept:{type(err).__name__}", self.stats.http_errors)
            return
        if status == 200:
            self.held.add(conversation_id)
            self.stats.accepted += 1
        else:
            self.stats.error(f"accept:{status}", self.stats.http_errors)

    async def _reply(self, conversation_id: str, client_id: str) -> None:
        try:
            status, _ = await self.call("POST", f"/api/conversations/{conversation_id}/messages",
                                        {"text": f"re:{client_id}", "private": False})
        except aiohttp.ClientError as err:
            self.stats.error(f"reply:{type(err).__name__}", self.stats.http_errors)
            return
        if status != 200:
            self.stats.error(f"reply:{status}", self.stats.http_errors)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.ws is not None:
            await self.ws.close()
        await self.session.close()


class Customer:
    """A web-chat widget: hello, messages, acks, and the agent's answers."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession, index: int, stats: Stats) -> None:
        self.base_url = base_url
        self.session = session
        self.index = index
        self.stats = stats
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.ws = await self.session.ws_connect(self.base_url.replace("http", "ws", 1) + "/webchat/ws",
                                                max_msg_size=0)
        await self.ws.send_json({"type": "hello", "visitor": None, "since": None,
                                 "name": f"Bench customer {self.index}", "language": "en"})
        while True:
            msg = await self.ws.receive(timeout=30)
            if msg.type is not WSMsgType.TEXT:
                raise ConnectionError(f"widget {self.index}: {msg.type}")
            if json.loads(msg.data).get("type") == "welcome":
                break
        self.reader = asyncio.create_task(self._read())

    async def send(self, client_id: str, text: str) -> None:
        assert self.ws is not None
        await self.ws.send_str(json.dumps({"type": "message", "client_id": client_id, "text": text}))

    async def _read(self) -> None:
        assert self.ws is not None
        stats = self.stats
        async for msg in self.ws:
            if msg.type is not WSMsgType.TEXT:
                break
            now = time.perf_counter()
            frame = json.loads(msg.data)
            kind = frame.get("type")
            if kind == "ack":
                sample = stats.samples.get(frame.get("client_id", ""))
                if sample is not None and not sample.ack:
                    sample.ack = now
                    stats.ack_times.append(now)
            elif kind == "message":
                text = frame["message"].get("text", "")
                if frame["message"].get("author") == "agent" and text.startswith("re:"):
                    sample = stats.samples.get(text[3:])
                    if sample is not None and not sample.round_trip:
                        sample.round_trip = now
                        stats.rt_times.append(now)
                        stats.outstanding -= 1
            elif kind == "error":
                stats.error(f"widget:{frame.get('code')}")

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
        if self.ws is not None:
            await self.ws.close()


async def tap_bus(redis_url: str, stats: Stats, ready: asyncio.Event) -> None:
    """Diagnostics: subscribe to the hub's Redis bus (``hub:bus``) to timestamp when the hub
    published a customer message and an agent reply, so the latency can be split into
    'store + publish' and 'bus dispatch inside the hub + socket write'."""
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    try:
        async with redis.pubsub(ignore_subscribe_messages=True) as pubsub:
            await pubsub.subscribe("hub:bus")
            ready.set()
            async for raw in pubsub.listen():
                now = time.perf_counter()
                data = raw["data"]
                if b'"kind":"message"' not in data:
                    continue
                message = json.loads(data)["message"]
                if message.get("author") == "customer":
                    sample = stats.samples.get(message.get("client_id") or "")
                    if sample is not None and not sample.bus_in:
                        sample.bus_in = now
                elif message.get("text", "").startswith("re:"):
                    sample = stats.samples.get(message["text"][3:])
                    if sample is not None and not sample.bus_reply:
                        sample.bus_reply = now
    finally:
        await redis.aclose()


async def gather_limited(coros: list[Any], limit: int) -> list[Any]:
    semaphore = asyncio.Semaphore(limit)

    async def one(coro: Any) -> Any:
        async with semaphore:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros))


async def wait_until(predicate: Any, within_s: float, interval: float = 0.05) -> bool:
    deadline = time.perf_counter() + within_s
    while time.perf_counter() < deadline:
        if predicate():
            return True
        await asyncio.sleep(interval)
    return bool(predicate())


@dataclass(frozen=True)
class Plan:
    rates: list[int]
    duration_s: float
    level_warmup_s: float
    drain_s: float
    customers: int
    agents: int
    quiet_wait_s: float = 0.0
    processes: int = 1  # hub processes behind the same SecantusDB and redis (widgets and agents spread)
    hub_settings: tuple[tuple[str, str], ...] = ()  # --hub-setting: HUB_* variables laid over the bench's
    rounds: int = 1  # the whole list of rates, this many times (the hub and the relay alternate at each)


@dataclass(frozen=True)
class Server:
    """A system under test, started fresh for one level."""

    base_url: str
    pids: dict[str, int]  # processes whose CPU is attributed to the server side
    agent_names: list[str]
    bus_redis_url: str | None = None  # set for the hub: our diagnostic tap on its event bus
    mongo_url: str | None = None  # set for the hub: serverStatus opcounters per level
    log_path: Path | None = None  # the server's log; what it wrote during the level is scanned
    log_offset: int = 0
    setup: dict[str, Any] = field(default_factory=dict)
    more_urls: tuple[str, ...] = ()  # further hub processes: agents and widgets go round-robin
    log_paths: tuple[Path, ...] = ()

    def url(self, index: int) -> str:
        urls = (self.base_url, *self.more_urls)
        return urls[index % len(urls)]


def scan_log(server: Server) -> dict[str, int]:
    """Count the hub's complaints during one level (ERROR/WARNING lines, dropped bus publishes)."""
    if server.log_path is None or not server.log_path.exists():
        return {}
    with server.log_path.open("rb") as log:
        log.seek(server.log_offset)
        text = log.read().decode("utf-8", "replace")
    for extra in server.log_paths:
        if extra.exists():
            text += extra.read_text("utf-8", "replace")
    return {"error_lines": text.count(" ERROR "), "warning_lines": text.count(" WARNING "),
            "bus_publish_failed": text.count("bus.publish.failed"),
            "redis_pool_exhausted": text.count("MaxConnectionsError: Too many connections")}


async def run_load(server: Server, plan: Plan, level_no: int, rate: int, label: str) -> dict[str, Any]:
    """Connect agents and widgets, open and assign every conversation, then offer ``rate`` msg/s."""
    stats = Stats()
    tap: asyncio.Task[None] | None = None
    if server.bus_redis_url:
        ready = asyncio.Event()
        tap = asyncio.create_task(tap_bus(server.bus_redis_url, stats, ready))
        await asyncio.wait_for(ready.wait(), 10)
    agents = [Agent(server.url(i), name, stats) for i, name in enumerate(server.agent_names)]
    widget_http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    customers = [Customer(server.url(i), widget_http, i, stats) for i in range(plan.customers)]
    setup = dict(server.setup)
    try:
        t = time.perf_counter()
        await gather_limited([a.start() for a in agents], 10)
        setup["agents_logged_in_s"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        await gather_limited([c.start() for c in customers], 20)
        setup["widgets_connected_s"] = round(time.perf_counter() - t, 2)
        # Warm-up: each widget opens its conversation; wait until every one is accepted.
        t = time.perf_counter()
        for c in customers:
            await c.send(f"warm-{c.index:06d}-{uuid.uuid4().hex[:6]}", "Hello, my power is out")
            await asyncio.sleep(0.002)
        ok = await wait_until(lambda: stats.accepted >= plan.customers, within_s=90)
        setup["conversations_assigned_s"] = round(time.perf_counter() - t, 2)
        if not ok:
            raise RuntimeError(f"{label}: only {stats.accepted}/{plan.customers} conversations assigned "
                               f"after 90 s; errors={stats.errors} http={stats.http_errors}")
        await asyncio.sleep(1.0)
        speed = calibrate()  # the VM's single-core speed right now (it varies; see README)
        result = await run_level(level_no, rate, customers, stats, plan, CpuMeter(server.pids),
                                 ServerCounters(server.mongo_url, server.bus_redis_url))
        result["setup"] = setup
        result["calibration_loop_s"] = speed
        result["http_errors"] = dict(stats.http_errors)
        return result
    finally:
        if tap is not None:
            tap.cancel()
        await asyncio.gather(*(c.close() for c in customers), return_exceptions=True)
        await widget_http.close()
        await asyncio.gather(*(a.close() for a in agents), return_exceptions=True)


async def run_level(level_no: int, rate: int, customers: list[Customer], stats: Stats, plan: Plan,
                    cpu: CpuMeter, counters: ServerCounters) -> dict[str, Any]:
    """Offer ``rate`` messages/s for ``plan.duration_s``; measure the part after the level's warm-up.

    Open loop: message k is due at t0 + k/rate whatever happened to earlier ones; latencies count
    from that due time. The generator wakes every 2 ms and sends whatever is due.
    """
    interval = 1.0 / rate
    lags: list[float] = []
    mine: list[Sample] = []
    t0 = time.perf_counter() + 0.05
    end = t0 + plan.duration_s
    window = (t0 + plan.level_warmup_s, end)
    robin = itertools.cycle(customers)
    sequence = 0
    await counters.start()
    cpu.start()
    whole = CpuMeter(cpu.pids)  # sending and the drain: what the servers spent on these round trips
    whole.start()
    whole_t0 = time.perf_counter()
    while True:
        now = time.perf_counter()
        if now >= end:
            break
        due = int((now - t0) / interval) + 1 if now >= t0 else 0
        while sequence < due:
            intended = t0 + sequence * interval
            if intended >= end:
                break
            client_id = f"L{level_no}x{sequence:08d}"
            sample = Sample(level=level_no, intended=intended)
            stats.samples[client_id] = sample
            mine.append(sample)
            customer = next(robin)
            sample.sent = time.perf_counter()
            stats.outstanding += 1
            try:
                await customer.send(client_id, f"Question {sequence} about my bill")
            except (ConnectionError, RuntimeError) as err:
                stats.error(f"send:{type(err).__name__}")
            lags.append(sample.sent - intended)
            sequence += 1
        await asyncio.sleep(0.002)
    cpu_load = cpu.stop()
    measured = [s for s in mine if window[0] <= s.intended < window[1]]
    # Drain: outstanding messages may still finish (they count for latency, not for throughput).
    await wait_until(lambda: all(s.round_trip for s in mine), within_s=plan.drain_s, interval=0.1)
    whole_s = time.perf_counter() - whole_t0
    whole_load = whole.stop()
    await counters.stop()
    window_s = window[1] - window[0]
    completed_in_window = sum(1 for t in stats.rt_times if window[0] <= t < window[1])
    acked_in_window = sum(1 for t in stats.ack_times if window[0] <= t < window[1])
    incomplete = sum(1 for s in measured if not s.round_trip)
    result = {
        "level": level_no,
        "offered_rate": rate,
        "sent": len(mine),
        "offered_rate_achieved_by_generator": round(len(measured) / window_s, 1),
        "window_s": round(window_s, 2),
        "measured_messages": len(measured),
        "throughput_round_trips_per_s": round(completed_in_window / window_s, 1),
        "throughput_acks_per_s": round(acked_in_window / window_s, 1),
        "incomplete_after_drain": incomplete,
        "latency_ms": {
            "ack": summary_ms([s.ack - s.intended for s in measured if s.ack]),
            "agent_receives": summary_ms([s.agent - s.intended for s in measured if s.agent]),
            "round_trip": summary_ms([s.round_trip - s.intended for s in measured if s.round_trip]),
        },
        "generator_send_lag_ms": summary_ms(lags),
        "cpu": cpu_load,
        "errors": dict(stats.errors),
    }
    # Per round trip = per round trip completed while the counters ran (the whole sending time):
    # below saturation that is every message sent; past it, what the servers got done for their work.
    # Per round trip: everything the servers spent from the first send until every message of the
    # level came back (or the drain ended), divided by the round trips completed by then. On a
    # loaded machine a level may fall behind; this still says what one round trip cost.
    completed = sum(1 for s in mine if s.round_trip)
    result["per_round_trip"] = {"round_trips": completed, "seconds": round(whole_s, 2),
                                "cpu_ms": cpu_ms_per_round_trip(whole_load, whole_s, completed),
                                **counters.summary(completed, whole_s)}
    if counters.ops:  # the older field, kept for comparison with earlier results
        data_ops = sum(v for k, v in counters.ops.items() if k != "command")
        result["mongo_ops"] = {"during_send_by_kind": counters.ops,
                               "data_ops_per_s": round(data_ops / plan.duration_s, 1),
                               "data_ops_per_message_sent": round(data_ops / max(len(mine), 1), 2)}
    if any(s.bus_in for s in measured):  # the hub only: where the time goes (see tap_bus)
        result["breakdown_ms"] = {
            "send_to_published": summary_ms([s.bus_in - s.intended for s in measured if s.bus_in]),
            "published_to_agent_frame": summary_ms([s.agent - s.bus_in for s in measured
                                                    if s.bus_in and s.agent]),
            "agent_frame_to_reply_published": summary_ms([s.bus_reply - s.agent for s in measured
                                                          if s.agent and s.bus_reply]),
            "reply_published_to_widget": summary_ms([s.round_trip - s.bus_reply for s in measured
                                                     if s.bus_reply and s.round_trip]),
        }
    result["saturated"] = bool(incomplete > 0.01 * max(len(measured), 1)
                               or result["throughput_round_trips_per_s"] < 0.9 * rate)
    return result


def print_level(label: str, r: dict[str, Any]) -> None:
    lat = r["latency_ms"]
    cpu = r["cpu"]
    procs = ", ".join(f"{k.removesuffix('_pct_of_1_core')} {v:.0f}%" for k, v in cpu.items()
                      if k.endswith("_pct_of_1_core"))
    flag = "  SATURATED" if r["saturated"] else ""
    print(f"  [{label}] level {r['level']} setup: {r.get('setup')}; calibration loop "
          f"{r.get('calibration_loop_s')} s", flush=True)
    print(f"  [{label}] offered {r['offered_rate']:>5}/s  done {r['throughput_round_trips_per_s']:>7.1f}/s  "
          f"ack p50/p99 {_fmt(lat['ack']['p50'])}/{_fmt(lat['ack']['p99'])} ms  "
          f"agent {_fmt(lat['agent_receives']['p50'])}/{_fmt(lat['agent_receives']['p99'])} ms  "
          f"rt {_fmt(lat['round_trip']['p50'])}/{_fmt(lat['round_trip']['p99'])} ms  "
          f"incomplete {r['incomplete_after_drain']}{flag}\n"
          f"  [{label}]    cpu: {procs}; machine {cpu['machine_busy_pct_of_all_cores']:.0f}% of all cores; "
          f"errors {r['errors'] or 'none'}", flush=True)
    if r.get("server_log"):
        print(f"  [{label}]    hub log during the level: {r['server_log']}", flush=True)
    per = r.get("per_round_trip", {})
    if per:
        cpu_ms = ", ".join(f"{k} {v:.2f}" for k, v in per["cpu_ms"].items())
        line = f"  [{label}]    per round trip: CPU ms {cpu_ms}"
        if per.get("mongo"):
            m = per["mongo"]
            line += (f"; MongoDB {m['reads_per_round_trip']:.2f} reads + {m['writes_per_round_trip']:.2f} writes "
                     f"({m['data_ops_per_s']:.0f} data ops/s; {m['by_kind']})")
        if per.get("redis"):
            line += f"; Redis {per['redis']['per_round_trip']:.2f} commands ({per['redis']['top']})"
        print(line, flush=True)
        by_collection = (per.get("mongo") or {}).get("by_collection")
        if by_collection:
            print(f"  [{label}]    MongoDB commands per round trip by collection (SecantusDB ms in them): "
                  + ", ".join(f"{k} {v['per_round_trip']:.3f} ({v['ms_per_round_trip']:.2f})"
                              for k, v in sorted(by_collection.items(), key=lambda kv: -kv[1]["per_round_trip"])),
                  flush=True)
    parts = r.get("breakdown_ms", {})
    if parts and parts["send_to_published"]["n"]:
        print(f"  [{label}]    split p50/p99 ms: send->published {_fmt(parts['send_to_published']['p50'])}/"
              f"{_fmt(parts['send_to_published']['p99'])}, published->agent frame "
              f"{_fmt(parts['published_to_agent_frame']['p50'])}/{_fmt(parts['published_to_agent_frame']['p99'])}"
              f", agent->reply published {_fmt(parts['agent_frame_to_reply_published']['p50'])}/"
              f"{_fmt(parts['agent_frame_to_reply_published']['p99'])}, reply published->widget "
              f"{_fmt(parts['reply_published_to_widget']['p50'])}/{_fmt(parts['reply_published_to_widget']['p99'])}",
              flush=True)


def _fmt(v: float | None) -> str:
    return "-" if v is None else (f"{v:.1f}" if v < 100 else f"{v:.0f}")


# ---------------------------------------------------------------------------------------------
# Baseline: a bare aiohttp WebSocket relay speaking the same protocol subset (no storage)
# ---------------------------------------------------------------------------------------------

class Relay:
    """customer ws -> server -> agent ws; agent HTTP reply -> server -> customer ws. Nothing stored."""

    def __init__(self) -> None:
        self.agents: dict[str, web.WebSocketResponse] = {}  # agent id -> console socket
        self.available: list[str] = []
        self.sessions: dict[str, str] = {}  # cookie -> agent id
        self.conv_agent: dict[str, str] = {}
        self.conv_customer: dict[str, web.WebSocketResponse] = {}
        self.robin = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/login", self.login)
        app.router.add_post("/api/me/status", self.status)
        app.router.add_get("/console/ws", self.console)
        app.router.add_post("/api/conversations/{id}/accept", self.accept)
        app.router.add_post("/api/conversations/{id}/messages", self.reply)
        app.router.add_get("/webchat/ws", self.webchat)
        return app

    def agent_of(self, request: web.Request) -> str:
        agent = self.sessions.get(request.cookies.get("hub_session", ""))
        if agent is None:
            raise web.HTTPUnauthorized()
        return agent

    async def login(self, request: web.Request) -> web.Response:
        body = await request.json()
        token = uuid.uuid4().hex
        self.sessions[token] = agent_id = "a_" + body["username"]
        response = web.json_response({"agent": {"id": agent_id, "username": body["username"]},
                                      "csrf_token": "csrf"})
        response.set_cookie("hub_session", token, httponly=True, path="/")
        return response

    async def status(self, request: web.Request) -> web.Response:
        agent = self.agent_of(request)
        body = await request.json()
        if body.get("status") == "available" and agent not in self.available:
            self.available.append(agent)
        return web.json_response({"agent": {"id": agent, "status": body.get("status")}})

    async def console(self, request: web.Request) -> web.WebSocketResponse:
        agent = self.agent_of(request)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.agents[agent] = ws
        await ws.send_json({"type": "hello", "agent": {"id": agent}})
        async for _ in ws:
            pass
        self.agents.pop(agent, None)
        return ws

    async def accept(self, request: web.Request) -> web.Response:
        agent = self.agent_of(request)
        cid = request.match_info["id"]
        if self.conv_agent.get(cid) != agent:
            return web.json_response({"error": {"code": "illegal_transition"}}, status=409)
        return web.json_response({"conversation": {"id": cid, "state": "assigned", "agent_id": agent}})

    async def reply(self, request: web.Request) -> web.Response:
        agent = self.agent_of(request)
        cid = request.match_info["id"]
        body = await request.json()
        if self.conv_agent.get(cid) != agent:
            return web.json_response({"error": {"code": "forbidden"}}, status=403)
        message = {"id": "m_" + uuid.uuid4().hex[:16], "conversation_id": cid, "author": "agent",
                   "author_name": agent, "text": body["text"], "sent_at": _now_iso(), "status": "sent"}
        customer = self.conv_customer.get(cid)
        if customer is not None and not customer.closed:
            await customer.send_json({"type": "message", "message": message})
        return web.json_response({"message": message})

    async def webchat(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        conversation: str | None = None
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            if frame.get("type") == "hello":
                visitor = "v_" + uuid.uuid4().hex[:16]
                await ws.send_json({"type": "welcome", "visitor": {"id": visitor, "token": "t"},
                                    "conversation_id": None, "history": []})
            elif frame.get("type") == "message":
                message = {"id": "m_" + uuid.uuid4().hex[:16], "conversation_id": conversation,
                           "author": "customer", "author_name": "customer", "text": frame["text"],
                           "sent_at": _now_iso(), "status": "sent", "client_id": frame["client_id"]}
                if conversation is None:
                    conversation = message["conversation_id"] = "c_" + uuid.uuid4().hex[:16]
                    self.conv_customer[conversation] = ws
                    agent = self.available[self.robin % len(self.available)]
                    self.robin += 1
                    self.conv_agent[conversation] = agent
                    console = self.agents.get(agent)
                    if console is not None:
                        await console.send_json({"type": "offer", "conversation": {"id": conversation,
                                                 "state": "offered", "agent_id": agent}, "expires_at": None})
                await ws.send_json({"type": "ack", "client_id": frame["client_id"], "message": message})
                console = self.agents.get(self.conv_agent[conversation])
                if console is not None:
                    await console.send_json({"type": "message", "conversation_id": conversation,
                                             "message": message})
        return ws


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def relay_main(port: int) -> None:
    web.run_app(Relay().app(), host="127.0.0.1", port=port, access_log=None, print=None)


# ---------------------------------------------------------------------------------------------
# Orchestration
# ---------------------------------------------------------------------------------------------

def hub_settings(pairs: list[str]) -> tuple[tuple[str, str], ...]:
    """``--hub-setting`` values as (name, value); anything but ``HUB_NAME=VALUE`` is refused."""
    out = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.startswith("HUB_"):
            raise SystemExit(f"--hub-setting wants HUB_NAME=VALUE, got {pair!r}")
        out.append((name, value))
    return tuple(out)


def hub_env(mongo_url: str, redis_url: str, port: int,
            settings: tuple[tuple[str, str], ...] = ()) -> dict[str, str]:
    """The hub's environment: the caller's without its ``HUB_*`` variables (a developer's own hub
    settings must not leak into a measurement), the bench's, then ``settings`` (``--hub-setting``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update({
        "HUB_MONGO_URL": mongo_url, "HUB_REDIS_URL": redis_url, "HUB_MONGO_DB": "bench",
        "HUB_HTTP__HOST": "127.0.0.1", "HUB_HTTP__PORT": str(port),
        "HUB_WEBCHAT__RATE_PER_MINUTE": "100000", "HUB_ROUTING__OFFER_TIMEOUT_S": "60",
        # all simulated customers share one loopback address
        "HUB_WEBCHAT__IDENTITIES_BURST": "100000", "HUB_WEBCHAT__CONVERSATIONS_BURST": "100000",
        "HUB_WEBCHAT__CONNECTIONS_BURST": "100000", "HUB_WEBCHAT__FRAMES_PER_SECOND": "100000",
        "HUB_SECRET_KEY": secrets.token_urlsafe(32),  # external URLs = production checks apply
        "PYTHONPATH": str(ROOT),
    })
    env.update(dict(settings))
    return env


async def create_bench_agents(mongo_url: str, count: int, capacity: int) -> list[str]:
    from hub.admin import create_agent
    from hub.storage.database import connect
    from hub.storage.directory import MongoDirectory

    client = connect(mongo_url)
    try:
        directory = MongoDirectory(client["bench"])
        names = [f"bench{i:03d}" for i in range(count)]
        for n in names:  # one at a time: each hashes its password on this loop (argon2id), and 20 at
            # once kept the driver from selecting the server within its 5 s on a loaded machine
            await create_agent(directory, username=n, display_name=f"Bench Agent {n[5:]}", role="agent",
                               password=PASSWORD, skills=["general"], capacity={"webchat": capacity})
        return names
    finally:
        await client.close()


async def wait_http(url: str, process: subprocess.Popen[bytes], within_s: float = 60) -> None:
    deadline = time.perf_counter() + within_s
    async with aiohttp.ClientSession() as session:
        while time.perf_counter() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{url}: server exited with {process.returncode}")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with session.get(url) as resp:
                    if resp.status < 500:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {within_s:.0f}s")


@contextlib.asynccontextmanager
async def services() -> AsyncIterator[tuple[Any, Any]]:
    from hub.embedded import start_redis, start_secantus, stop

    mongo = start_secantus(None, LOGS / "secantus.log")
    try:
        redis = start_redis(None, LOGS / "redis.log")
        try:
            yield mongo, redis
        finally:
            stop(redis)
    finally:
        stop(mongo)


@contextlib.asynccontextmanager
async def hub_server(plan: Plan, hub_cmd: list[str] | None) -> AsyncIterator[Server]:
    """Fresh SecantusDB + redis + demo data + bench agents + ``python -m hub serve``."""
    from hub.admin import load_demo
    from hub.embedded import free_port
    from hub.storage.database import connect, ensure_indexes
    from hub.storage.directory import MongoDirectory

    async with services() as (mongo, redis):
        t = time.perf_counter()
        port = free_port()
        env = hub_env(mongo.url, redis.url, port, plan.hub_settings)
        capacity = math.ceil(plan.customers / plan.agents) + 2
        client = connect(mongo.url)
        try:
            await ensure_indexes(client["bench"])
            await load_demo(MongoDirectory(client["bench"]))
        finally:
            await client.close()
        names = await create_bench_agents(mongo.url, plan.agents, capacity)
        setup = {"data_loaded_s": round(time.perf_counter() - t, 2), "agent_webchat_capacity": capacity}
        command = hub_cmd or [sys.executable, "-m", "hub", "serve"]
        log_offset = (LOGS / "hub.log").stat().st_size if (LOGS / "hub.log").exists() else 0
        with contextlib.ExitStack() as stack:
            t = time.perf_counter()
            processes, urls, extra_logs = [], [], []
            for n in range(plan.processes):  # the second and later hubs: their own port and log
                hub_port = port if n == 0 else free_port()
                log = LOGS / ("hub.log" if n == 0 else f"hub{n + 1}.log")
                if n:
                    log.unlink(missing_ok=True)
                    extra_logs.append(log)
                processes.append(stack.enter_context(child(command, {**env, "HUB_HTTP__PORT": str(hub_port)}, log)))
                urls.append(f"http://127.0.0.1:{hub_port}")
            for url, process in zip(urls, processes, strict=True):
                await wait_http(url + "/api/queues", process)
            setup["hub_started_s"] = round(time.perf_counter() - t, 2)
            pids = {("hub" if n == 0 else f"hub{n + 1}"): p.pid for n, p in enumerate(processes)}
            yield Server(base_url=urls[0], more_urls=tuple(urls[1:]), agent_names=names, bus_redis_url=redis.url,
                         setup=setup, mongo_url=mongo.url, log_path=LOGS / "hub.log", log_offset=log_offset,
                         log_paths=tuple(extra_logs),
                         pids={**pids, "secantus": mongo.process.pid, "redis": redis.process.pid})
            for process in processes:
                if process.poll() is not None:
                    raise RuntimeError(f"a hub exited with {process.returncode} during the run (see its log)")


@contextlib.asynccontextmanager
async def relay_server(plan: Plan) -> AsyncIterator[Server]:
    port = free_port_local()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with child([sys.executable, str(THIS_FILE), "--relay-server", str(port)], env,
               LOGS / "relay.log") as process:
        base_url = f"http://127.0.0.1:{port}"
        await wait_http(base_url + "/api/me/status", process)
        yield Server(base_url=base_url, agent_names=[f"bench{i:03d}" for i in range(plan.agents)],
                     pids={"relay": process.pid})


def free_port_local() -> int:
    from hub.embedded import free_port

    return free_port()


async def wait_for_quiet(max_wait_s: float, limit_pct: float = 25.0) -> tuple[float, float]:
    """On a shared machine, wait (at most ``max_wait_s``) until other processes use less than
    ``limit_pct`` of a core over 2 s; returns (their last measured use, seconds waited)."""
    t0 = time.perf_counter()
    while True:
        meter = CpuMeter({})
        meter.start()
        await asyncio.sleep(2.0)
        other = meter.stop()["other_processes_pct_of_1_core"]
        waited = time.perf_counter() - t0
        if other < limit_pct or waited >= max_wait_s:
            if other >= limit_pct:
                print(f"  WARNING: other processes still use {other:.0f}% of a core; measuring anyway", flush=True)
            return other, round(waited, 1)


async def run_systems(systems: dict[str, Any], plan: Plan) -> dict[str, dict[str, Any]]:
    """Every level against a freshly started system, so a saturated level leaves no backlog behind.

    The systems take turns at each rate (hub, then relay, at 300/s; then at the next rate), and
    ``plan.rounds`` times over: this machine's speed drifts by tens of percent within minutes, so
    the hub's and the relay's CPU per round trip are compared only as measured a minute apart."""
    out: dict[str, dict[str, Any]] = {label: {"levels": []} for label in systems}
    level_no = 0
    for _round in range(plan.rounds):
        for rate in plan.rates:
            level_no += 1
            for label, start in systems.items():
                background, waited = await wait_for_quiet(plan.quiet_wait_s)
                async with start() as server:
                    result = await run_load(server, plan, level_no, rate, label)
                    result["background_before_level"] = {"other_processes_pct_of_1_core": background,
                                                          "waited_for_quiet_s": waited}
                    if server.log_path is not None:
                        result["server_log"] = scan_log(server)
                out[label]["levels"].append(result)
                print_level(label, result)
    return out


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 2)


def compare(hub: dict[str, Any], base: dict[str, Any]) -> list[dict[str, Any]]:
    """Each hub level beside the relay level that ran right after it (same rate, same round)."""
    rows = []
    for lv, b in zip(hub["levels"], base["levels"], strict=True):
        row: dict[str, Any] = {"offered_rate": lv["offered_rate"],
                               "throughput_hub_over_baseline": ratio(lv["throughput_round_trips_per_s"],
                                                                     b["throughput_round_trips_per_s"])}
        for metric in ("ack", "agent_receives", "round_trip"):
            for q in ("p50", "p99"):
                row[f"{metric}_{q}_hub_over_baseline"] = ratio(lv["latency_ms"][metric][q],
                                                               b["latency_ms"][metric][q])
        row["hub_cpu_ms_per_round_trip"] = hub_cpu_ms(lv)
        row["relay_cpu_ms_per_round_trip"] = b.get("per_round_trip", {}).get("cpu_ms", {}).get("relay")
        row["hub_cpu_over_relay_cpu"] = ratio(row["hub_cpu_ms_per_round_trip"], row["relay_cpu_ms_per_round_trip"])
        rows.append(row)
    return rows


def hub_cpu_ms(level: dict[str, Any]) -> float | None:
    """CPU ms per round trip of every hub process together (not SecantusDB, not redis)."""
    cpu = level.get("per_round_trip", {}).get("cpu_ms", {})
    hubs = [v for k, v in cpu.items() if k.startswith("hub")]
    return round(sum(hubs), 3) if hubs else None


def print_costs(results: dict[str, Any]) -> None:
    """Per round trip: CPU ms of the hub(s), SecantusDB and the relay; MongoDB reads and writes; Redis."""
    print("\nPer round trip (from the first send to the last reply; CPU ms; MongoDB commands; Redis commands)")
    print(f"{'system':<9}{'offered/s':>10}{'hub ms':>8}{'db ms':>7}{'redis ms':>9}{'relay ms':>9}"
          f"{'reads':>7}{'writes':>7}{'redis':>7}")
    for system in ("hub", "baseline"):
        for lv in results["systems"].get(system, {}).get("levels", []):
            per = lv.get("per_round_trip", {})
            cpu, mongo, redis = per.get("cpu_ms", {}), per.get("mongo", {}), per.get("redis", {})
            cells = [hub_cpu_ms(lv), cpu.get("secantus"), cpu.get("redis"), cpu.get("relay"),
                     mongo.get("reads_per_round_trip"), mongo.get("writes_per_round_trip"), redis.get("per_round_trip")]
            widths = [8, 7, 9, 9, 7, 7, 7]
            print(f"{system:<9}{lv['offered_rate']:>10}" + "".join(
                f"{('-' if c is None else f'{c:.2f}'):>{w}}" for c, w in zip(cells, widths, strict=True)))
    by_rate: dict[int, list[float]] = {}
    for row in results.get("ratios", []):
        print(f"  at {row['offered_rate']}/s: hub CPU per round trip / relay's = {row['hub_cpu_over_relay_cpu']} "
              f"(relay measured right after the hub)")
        if row["hub_cpu_over_relay_cpu"] is not None:
            by_rate.setdefault(row["offered_rate"], []).append(row["hub_cpu_over_relay_cpu"])
    for rate, values in by_rate.items():
        if len(values) > 1:
            print(f"  at {rate}/s over {len(values)} rounds: median {statistics.median(values):.2f} "
                  f"(min {min(values):.2f}, max {max(values):.2f})")


def print_table(results: dict[str, Any]) -> None:
    print("\nWeb-chat round trip (latency from the scheduled send time; ms)")
    header = (f"{'system':<9}{'offered/s':>10}{'done/s':>9}{'ack p50':>9}{'ack p99':>9}{'agent p50':>10}"
              f"{'agent p99':>10}{'rt p50':>9}{'rt p99':>9}{'lost':>6}{'gen CPU':>9}{'srv CPU':>9}{'other':>8}"
              f"{'busy':>6}")
    print(header)
    print("-" * len(header))
    for system in ("hub", "baseline"):
        data = results["systems"].get(system)
        if not data:
            continue
        for lv in data["levels"]:
            lat, cpu = lv["latency_ms"], lv["cpu"]
            server_cpu = sum(v for k, v in cpu.items() if k.endswith("_pct_of_1_core") and
                             not k.startswith(("generator", "other")))
            print(f"{system:<9}{lv['offered_rate']:>10}{lv['throughput_round_trips_per_s']:>9.1f}"
                  f"{_fmt(lat['ack']['p50']):>9}{_fmt(lat['ack']['p99']):>9}"
                  f"{_fmt(lat['agent_receives']['p50']):>10}{_fmt(lat['agent_receives']['p99']):>10}"
                  f"{_fmt(lat['round_trip']['p50']):>9}{_fmt(lat['round_trip']['p99']):>9}"
                  f"{lv['incomplete_after_drain']:>6}{cpu['generator_pct_of_1_core']:>8.0f}%"
                  f"{server_cpu:>8.0f}%{cpu['other_processes_pct_of_1_core']:>7.0f}%"
                  f"{cpu['machine_busy_pct_of_all_cores']:>5.0f}%"
                  f"{'  *' if lv['saturated'] else ''}")
    print("  done/s = round trips completed per second in the measured window; lost = measured messages\n"
          "  without a reply after the drain; gen CPU = this load generator (100% = one core); srv CPU =\n"
          "  hub+SecantusDB+redis (or the relay); other = unrelated processes on the machine meanwhile\n"
          "  (noise); busy = whole machine, % of all cores; * = saturated (done < 90% of offered or\n"
          "  > 1% lost).")
    if results.get("ratios"):
        print("\nHub / baseline (throughput: <1 = the hub completes fewer; latency: >1 = the hub is slower)")
        print(f"{'offered/s':>10}{'thruput':>9}{'ack p50':>9}{'ack p99':>9}{'agent p50':>10}{'agent p99':>10}"
              f"{'rt p50':>9}{'rt p99':>9}")
        for row in results["ratios"]:
            cells = [row["throughput_hub_over_baseline"], row["ack_p50_hub_over_baseline"],
                     row["ack_p99_hub_over_baseline"], row["agent_receives_p50_hub_over_baseline"],
                     row["agent_receives_p99_hub_over_baseline"], row["round_trip_p50_hub_over_baseline"],
                     row["round_trip_p99_hub_over_baseline"]]
            widths = [9, 9, 9, 10, 10, 9, 9]
            print(f"{row['offered_rate']:>10}" + "".join(
                f"{('-' if c is None else f'{c:.2f}'):>{w}}" for c, w in zip(cells, widths, strict=True)))


def loadavg() -> list[str]:
    return Path("/proc/loadavg").read_text().split()[:3]


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))


async def main_async(args: argparse.Namespace) -> int:
    LOGS.mkdir(parents=True, exist_ok=True)
    for name in ("hub.log", "relay.log", "secantus.log", "redis.log"):
        (LOGS / name).unlink(missing_ok=True)
    quick = args.quick
    plan = Plan(rates=[int(r) for r in args.rates.split(",") if r.strip()],
                duration_s=args.duration or (5.0 if quick else 12.0),
                level_warmup_s=1.0 if quick else 2.0,
                drain_s=args.drain or (5.0 if quick else 8.0),
                customers=args.customers, agents=args.agents, quiet_wait_s=args.quiet_wait,
                processes=args.processes, hub_settings=hub_settings(args.hub_setting), rounds=args.rounds)
    started = time.perf_counter()
    idle = CpuMeter({})
    idle.start()
    await asyncio.sleep(2.0)
    background = idle.stop()["other_processes_pct_of_1_core"]
    if background > 20:
        print(f"WARNING: other processes use {background:.0f}% of a core before the run; the numbers will "
              f"be pessimistic (see 'other' per level)", flush=True)
    results: dict[str, Any] = {
        "benchmark": "webchat_roundtrip",
        "background_cpu_before_start_pct_of_1_core": background,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "load_before_start": loadavg(),
        "calibration_loop_s": calibrate(),
        "git": git_state(),
        "config": {"rates": plan.rates, "duration_s": plan.duration_s, "level_warmup_s": plan.level_warmup_s,
                   "drain_s": plan.drain_s, "customers": plan.customers, "agents": plan.agents, "quick": quick,
                   "hub_processes": plan.processes, "rounds": plan.rounds,
                   "hub_env": {"HUB_WEBCHAT__RATE_PER_MINUTE": "100000", "HUB_ROUTING__OFFER_TIMEOUT_S": "60",
                               "log_level": "INFO (default, includes the aiohttp access log)"}},
        "notes": [
            "Open loop: sends are scheduled at the offered rate; latencies count from the scheduled time.",
            "Each level runs against a freshly started system (new SecantusDB, redis, hub process).",
            "Throughput = round trips completed per second inside the measured window.",
            "Generator, hub, SecantusDB and redis share the same cores; see cpu per level.",
            "SecantusDB (a Python MongoDB-compatible server, in memory) stands in for mongod.",
        ],
        "systems": {},
    }
    print(f"webchat_roundtrip: rates {plan.rates}/s, {plan.customers} widgets, {plan.agents} agents, "
          f"{plan.duration_s:.0f}s per level (first {plan.level_warmup_s:.0f}s not measured); "
          f"load average {' '.join(results['load_before_start'])}", flush=True)
    systems: dict[str, Any] = {}
    if not args.baseline_only:
        hub_cmd = args.hub_cmd.split() if args.hub_cmd else None
        systems["hub"] = lambda: hub_server(plan, hub_cmd)
    if not args.hub_only:
        systems["baseline"] = lambda: relay_server(plan)
    results["systems"] = await run_systems(systems, plan)
    if "hub" in results["systems"] and "baseline" in results["systems"]:
        results["ratios"] = compare(results["systems"]["hub"], results["systems"]["baseline"])
    results["elapsed_s"] = round(time.perf_counter() - started, 1)
    print_table(results)
    print_costs(results)
    write_json(Path(args.out), results)
    print(f"\nwrote {args.out} (total {results['elapsed_s']:.0f}s)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rates", default="50,100,300,1000", help="offered messages/s, comma-separated")
    parser.add_argument("--quick", action="store_true", help="short levels (about 5 s each)")
    parser.add_argument("--duration", type=float, default=0.0, help="seconds per level (default 12; quick 5)")
    parser.add_argument("--drain", type=float, default=0.0, help="seconds to wait for stragglers (default 8)")
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--quiet-wait", type=float, default=0.0,
                        help="before each level wait up to this long for other processes to calm down")
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--processes", type=int, default=1,
                        help="hub processes behind one SecantusDB and redis (widgets and agents spread)")
    parser.add_argument("--hub-setting", action="append", default=[], metavar="HUB_NAME=VALUE",
                        help="a hub setting for every hub this run starts (repeatable; e.g. HUB_MESSAGES__GATHER_MS=5)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the rates this many times; the hub and the relay alternate at every level "
                             "and the CPU ratio is also given as the median per rate")
    parser.add_argument("--hub-only", action="store_true")
    parser.add_argument("--baseline-only", action="store_true")
    parser.add_argument("--out", default=str(RESULTS / "webchat.json"))
    parser.add_argument("--relay-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--hub-cmd", default="", help=argparse.SUPPRESS)  # diagnostics: a wrapped hub
    args = parser.parse_args()
    if args.relay_server:
        relay_main(args.relay_server)
        return 0
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
