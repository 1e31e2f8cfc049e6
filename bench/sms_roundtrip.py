"""SMS round-trip benchmark through a real Kannel: phone (fake SMSC) -> Kannel -> hub -> agent console ->
hub outbox -> Kannel sendsms -> phone, open-loop; next to Kannel's own rates measured in the same run.

Run:  .venv/bin/python bench/sms_roundtrip.py [--quick] [--rates 10,25,50] [--seconds 10]

What happens (about 2 minutes; ``--quick`` under 1):

1. Kannel 1.4.5 (bearerbox + smsbox + ``smsc = fake``) starts through scripts/kannel.sh, exactly as
   the tests run it (tests/kannel_rig.py), and this process connects as the fake SMSC
   (tests/fake_smsc.py) to inject MO and receive MT.
2. Baseline, Kannel alone: its MO rate (a burst of N Chinese MO written to the fake SMSC, until all
   reached a minimal aiohttp sink in place of the hub) and its MT rate (N Chinese sendsms requests,
   20 in flight, until all reached the fake SMSC). Then the same open-loop levels as the hub, with
   the sink answering every MO at once through sendsms (an echo "hub" that stores nothing).
3. The hub: an in-memory SecantusDB and a private redis-server, demo data plus agents with SMS
   capacity, ``python -m hub serve`` in its own process with SMS enabled against a second Kannel.
   Agents log in, accept every offer and answer every customer message at once. Customers (one
   phone number each) first open their conversations, then send at a FIXED OFFERED RATE (open
   loop; latency counts from the scheduled time). Per message: MO written -> the agent console's
   ``message`` frame (MO to agent inbox), and -> the reply at the fake SMSC (full round trip).

Results: a table on stdout and ``bench/results/sms.json``; Kannel's and the hub's logs in bench/results/logs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from counters import ProcessCpu, ServerCounters  # noqa: E402  (bench/ is the script's folder)
from runinfo import calibrate, child, git_state, machine, pct  # noqa: E402

from tests.fake_smsc import FakeSMSC  # noqa: E402
from tests.kannel_rig import KannelRig, running_kannel  # noqa: E402

RESULTS = ROOT / "bench" / "results"
LOGS = RESULTS / "logs"
PASSWORD = "bench-password-1"
SHORT_CODE = "10086"
TAG = re.compile(r"#(\d+)")


def summary_ms(seconds: list[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50": _r(pct(ms, 50)), "p99": _r(pct(ms, 99)), "max": _r(max(ms) if ms else None)}


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def phone(i: int) -> str:
    return f"+86138{i:08d}"


class Clock:
    """Per-message timestamps keyed by the '#n' tag every text carries."""

    def __init__(self) -> None:
        self.sent: dict[int, float] = {}
        self.agent: dict[int, float] = {}
        self.back: dict[int, float] = {}
        self.event = asyncio.Event()

    def mark(self, table: dict[int, float], text: str) -> None:
        match = TAG.search(text)
        if match:
            table.setdefault(int(match.group(1)), time.perf_counter())
            self.event.set()


async def collect_mt(smsc: FakeSMSC, clock: Clock) -> None:
    while True:
        mt = await smsc.mt.get()
        clock.mark(clock.back, mt.text())


async def wait_all(table: dict[int, float], ids: range, clock: Clock, timeout_s: float) -> bool:
    deadline = time.perf_counter() + timeout_s
    while not all(i in table for i in ids):
        if time.perf_counter() > deadline:
            return False
        clock.event.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.2):
                await clock.event.wait()
    return True


# ---------------------------------------------------------------------------------------------
# Kannel alone: a sink in place of the hub
# ---------------------------------------------------------------------------------------------

class Sink:
    """The minimal 'hub': records MO arrival; in echo mode answers each MO through sendsms at once."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.echo: Callable[[str, str], Awaitable[None]] | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    async def mo(self, request: web.Request) -> web.Response:
        text, sender = request.query.get("text", ""), request.query.get("from", "")
        self.clock.mark(self.clock.agent, text)
        if self.echo is not None:
            task = asyncio.create_task(self.echo(sender, "回复 " + text))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return web.Response(status=200)


@contextlib.asynccontextmanager
async def sink_server(port: int, sink: Sink) -> AsyncIterator[None]:
    app = web.Application()
    app.router.add_get("/mo", sink.mo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield
    finally:
        await runner.cleanup()


async def sendsms(http: aiohttp.ClientSession, rig: KannelRig, to: str, text: str) -> None:
    params = {"username": rig.user, "password": rig.password, "from": SHORT_CODE, "to": to, "text": text,
              "charset": "UTF-8", "coding": "2"}
    async with http.get(rig.sendsms_url + "/cgi-bin/sendsms", params=params) as response:
        if response.status != 202:
            raise RuntimeError(f"sendsms answered {response.status}")


async def kannel_rates(rig: KannelRig, smsc: FakeSMSC, clock: Clock, n: int, base: int) -> dict[str, Any]:
    ids = range(base, base + n)
    t0 = time.perf_counter()
    for i in ids:
        clock.sent[i] = time.perf_counter()
        await smsc.send_mo(phone(i % 1000), SHORT_CODE, f"查询电费 #{i}")
    complete = await wait_all(clock.agent, ids, clock, 60)
    mo_s = max(clock.agent.get(i, t0) for i in ids) - t0
    mo = {"n": n, "complete": complete, "seconds": round(mo_s, 2), "per_s": round(n / mo_s, 1),
          "latency_ms": summary_ms([clock.agent[i] - clock.sent[i] for i in ids if i in clock.agent])}
    ids = range(base + n, base + 2 * n)
    gate = asyncio.Semaphore(20)
    async with aiohttp.ClientSession() as http:
        async def one(i: int) -> None:
            async with gate:
                clock.sent[i] = time.perf_counter()
                await sendsms(http, rig, phone(i % 1000), f"您的电费余额为 123.45 元 #{i}")
        t0 = time.perf_counter()
        await asyncio.gather(*(one(i) for i in ids))
        accepted_s = time.perf_counter() - t0
        complete = await wait_all(clock.back, ids, clock, 60)
    mt_s = max(clock.back.get(i, t0) for i in ids) - t0
    mt = {"n": n, "complete": complete, "accepted_s": round(accepted_s, 2), "seconds": round(mt_s, 2),
          "per_s": round(n / mt_s, 1),
          "latency_ms": summary_ms([clock.back[i] - clock.sent[i] for i in ids if i in clock.back])}
    return {"mo": mo, "mt": mt}


# ---------------------------------------------------------------------------------------------
# The open-loop levels (the same for the echo sink and the hub)
# ---------------------------------------------------------------------------------------------

async def run_level(smsc: FakeSMSC, clock: Clock, rate: int, seconds: float, base: int,
                    customers: int, servers: tuple[ServerCounters, ProcessCpu] | None = None) -> dict[str, Any]:
    """``servers``: the hub's counters, read around the level (per round trip: CPU ms, MongoDB reads
    and writes, Redis commands)."""
    if servers is not None:
        await servers[0].start()
        servers[1].start()
    n = int(rate * seconds)
    ids = range(base, base + n)
    start = time.perf_counter() + 0.2
    for k, i in enumerate(ids):
        intended = start + k / rate
        delay = intended - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        clock.sent[i] = intended
        await smsc.send_mo(phone(i % customers), SHORT_CODE, f"查询电费 #{i}")
    complete = await wait_all(clock.back, ids, clock, 30 + seconds)
    done = [clock.back[i] for i in ids if i in clock.back]
    span = (max(done) - start) if done else 0.0
    per: dict[str, Any] = {}
    if servers is not None:
        cpu_ms = servers[1].stop(len(done))
        await servers[0].stop()
        per = {"per_round_trip": {"cpu_ms": cpu_ms, **servers[0].summary(len(done), span or seconds)},
               "machine_busy_pct_of_all_cores": servers[1].machine_busy_pct}
    return {**per, "offered_per_s": rate, "n": n, "returned": len(done), "complete": complete,
            "achieved_per_s": round(len(done) / span, 1) if span else 0.0,
            "to_inbox_ms": summary_ms([clock.agent[i] - clock.sent[i] for i in ids if i in clock.agent]),
            "round_trip_ms": summary_ms([clock.back[i] - clock.sent[i] for i in ids if i in clock.back])}


# ---------------------------------------------------------------------------------------------
# The hub
# ---------------------------------------------------------------------------------------------

def kannel_pids(rig: KannelRig) -> dict[str, int]:
    """bearerbox's and smsbox's process ids, from the pid files scripts/kannel.sh writes."""
    return {name: int((rig.dir / f"{name}.pid").read_text().strip()) for name in ("bearerbox", "smsbox")
            if (rig.dir / f"{name}.pid").is_file()}


class Agent:
    """An agent console: accepts every offer, answers every customer SMS at once (in Chinese)."""

    def __init__(self, base_url: str, username: str, clock: Clock) -> None:
        self.base_url, self.username, self.clock = base_url, username, clock
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""
        self.tasks: set[asyncio.Task[None]] = set()
        self.errors = 0

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"X-CSRF-Token": self.csrf} if self.csrf else {}
        async with self.session.request(method, self.base_url + path, json=body, headers=headers) as resp:
            if resp.status != 200:
                self.errors += 1
            return await resp.json(content_type=None)

    async def start(self) -> None:
        self.csrf = (await self.call("POST", "/api/login", {"username": self.username, "password": PASSWORD}))[
            "csrf_token"]
        ws = await self.session.ws_connect(self.base_url.replace("http", "ws", 1) + "/console/ws",
                                           origin=self.base_url)
        self._spawn(self._read(ws))
        await self.call("POST", "/api/me/status", {"status": "available"})

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            frame = json.loads(msg.data)
            if frame["type"] == "offer":
                self._spawn(self._accept(frame["conversation"]["id"]))
            elif frame["type"] == "message" and frame["message"]["author"] == "customer":
                self._answer(frame["message"])

    def _answer(self, message: dict[str, Any]) -> None:
        self.clock.mark(self.clock.agent, message["text"])
        self._spawn(self.call("POST", f"/api/conversations/{message['conversation_id']}/messages",
                              {"text": "回复 " + message["text"]}))

    async def _accept(self, conversation_id: str) -> None:
        """Accept, then answer what the customer wrote while the conversation waited in the queue."""
        await self.call("POST", f"/api/conversations/{conversation_id}/accept")
        view = await self.call("GET", f"/api/conversations/{conversation_id}")
        for entry in view.get("timeline", []):
            message = entry.get("message") or {}
            if entry.get("kind") == "message" and message.get("author") == "customer":
                self._answer(message)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await self.session.close()


async def prepare_db(mongo_url: str, agents: int, capacity: int) -> list[str]:
    from hub.admin import create_agent, load_demo
    from hub.storage.database import connect, ensure_indexes
    from hub.storage.directory import MongoDirectory

    client = connect(mongo_url)
    try:
        await ensure_indexes(client["bench"])
        directory = MongoDirectory(client["bench"])
        await load_demo(directory)
        names = [f"bench{i:03d}" for i in range(agents)]
        for name in names:
            await create_agent(directory, username=name, display_name=f"Bench {name}", role="agent",
                               password=PASSWORD, skills=["general"], capacity={"sms": capacity})
        return names
    finally:
        await client.close()


async def wait_http(url: str, process: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            if process.poll() is not None:
                raise RuntimeError("the hub exited during start-up (see bench/results/logs/sms-hub.log)")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with http.get(url) as response:
                    if response.status < 500:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError("the hub did not start")


async def hub_levels(work: Path, args: argparse.Namespace, rates: list[int]) -> dict[str, Any]:
    from hub.embedded import free_port, start_redis, start_secantus, stop

    port, secret = free_port(), secrets.token_urlsafe(24)
    mongo = start_secantus(None, LOGS / "sms-secantus.log")
    redis = start_redis(None, LOGS / "sms-redis.log")
    try:
        names = await prepare_db(mongo.url, args.agents, args.customers // args.agents + 2)
        mo_url = f"http://127.0.0.1:{port}/channels/sms/mo?secret={secret}"
        with running_kannel(work / "kannel-hub", mo_url) as rig:
            env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
            env.update({"HUB_MONGO_URL": mongo.url, "HUB_REDIS_URL": redis.url, "HUB_MONGO_DB": "bench",
                        "HUB_HTTP__HOST": "127.0.0.1", "HUB_HTTP__PORT": str(port),
                        "HUB_ROUTING__OFFER_TIMEOUT_S": "60", "HUB_SECRET_KEY": secrets.token_urlsafe(32),
                        "HUB_SMS__KANNEL_URL": rig.sendsms_url, "HUB_SMS__USERNAME": rig.user,
                        "HUB_SMS__PASSWORD": rig.password, "HUB_SMS__SECRET": secret, "HUB_SMS__SENDER": SHORT_CODE,
                        "HUB_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)})
            with child([sys.executable, "-m", "hub", "serve"], env, LOGS / "sms-hub.log") as process:
                base_url = f"http://127.0.0.1:{port}"
                await wait_http(base_url + "/api/queues", process)
                clock = Clock()
                agents = [Agent(base_url, name, clock) for name in names]
                await asyncio.gather(*(a.start() for a in agents))
                async with FakeSMSC(rig.smsc_port) as smsc:
                    collector = asyncio.create_task(collect_mt(smsc, clock))
                    try:
                        warm = await run_level(smsc, clock, max(rates[0], 10), args.customers / max(rates[0], 10),
                                               1_000_000, args.customers)
                        pids = {"hub": process.pid, "secantus": mongo.process.pid, "redis": redis.process.pid,
                                **kannel_pids(rig), "bench": os.getpid()}  # bench: fake SMSC, agents, clock
                        levels = [await run_level(smsc, clock, rate, args.seconds, 2_000_000 + k * 100_000,
                                                  args.customers, (ServerCounters(mongo.url, redis.url),
                                                                   ProcessCpu(pids)))
                                  for k, rate in enumerate(rates)]
                    finally:
                        collector.cancel()
                        for agent in agents:
                            await agent.close()
                return {"warm_up": warm, "levels": levels, "agent_http_errors": sum(a.errors for a in agents)}
    finally:
        stop(redis)
        stop(mongo)


async def baseline(work: Path, args: argparse.Namespace, rates: list[int]) -> dict[str, Any]:
    from hub.embedded import free_port

    port = free_port()
    clock = Clock()
    sink = Sink(clock)
    with running_kannel(work / "kannel-sink", f"http://127.0.0.1:{port}/mo") as rig:
        async with sink_server(port, sink), FakeSMSC(rig.smsc_port) as smsc, aiohttp.ClientSession() as http:
            collector = asyncio.create_task(collect_mt(smsc, clock))
            try:
                rates_alone = await kannel_rates(rig, smsc, clock, args.burst, 0)

                async def echo(to: str, text: str) -> None:
                    await sendsms(http, rig, to, text)

                sink.echo = echo
                levels = [await run_level(smsc, clock, rate, args.seconds, 100_000 * (k + 1), args.customers)
                          for k, rate in enumerate(rates)]
            finally:
                collector.cancel()
    return {"kannel_alone": rates_alone, "echo_levels": levels}


def print_table(result: dict[str, Any]) -> None:
    alone = result["baseline"]["kannel_alone"]
    print(f"Kannel alone: MO {alone['mo']['per_s']}/s (p50 {alone['mo']['latency_ms']['p50']} ms), "
          f"MT {alone['mt']['per_s']}/s (p50 {alone['mt']['latency_ms']['p50']} ms), {alone['mo']['n']} each")
    print(f"{'offered/s':>9} | {'echo sink: achieved/s':>21} {'rt p50':>7} {'rt p99':>7} | "
          f"{'hub: achieved/s':>15} {'inbox p50':>9} {'inbox p99':>9} {'rt p50':>7} {'rt p99':>7} {'lost':>4}")
    for echo, hub in zip(result["baseline"]["echo_levels"], result["hub"]["levels"], strict=True):
        print(f"{hub['offered_per_s']:>9} | {echo['achieved_per_s']:>21} {echo['round_trip_ms']['p50']:>7} "
              f"{echo['round_trip_ms']['p99']:>7} | {hub['achieved_per_s']:>15} {hub['to_inbox_ms']['p50']:>9} "
              f"{hub['to_inbox_ms']['p99']:>9} {hub['round_trip_ms']['p50']:>7} {hub['round_trip_ms']['p99']:>7} "
              f"{hub['n'] - hub['returned']:>4}")
    for hub in result["hub"]["levels"]:
        per = hub.get("per_round_trip", {})
        mongo, redis = per.get("mongo", {}), per.get("redis", {})
        print(f"  hub at {hub['offered_per_s']}/s, machine {hub.get('machine_busy_pct_of_all_cores')} % of all "
              f"cores busy; per round trip: CPU ms {per.get('cpu_ms')}; MongoDB "
              f"{mongo.get('reads_per_round_trip')} reads + {mongo.get('writes_per_round_trip')} writes "
              f"({mongo.get('by_kind')}); Redis {redis.get('per_round_trip')} commands")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rates", default="")
    parser.add_argument("--seconds", type=float, default=0)
    parser.add_argument("--customers", type=int, default=60)
    parser.add_argument("--agents", type=int, default=6)
    parser.add_argument("--burst", type=int, default=0)
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",") if r] or ([10, 25] if args.quick else [10, 25, 50])
    args.seconds = args.seconds or (5.0 if args.quick else 10.0)
    args.burst = args.burst or (300 if args.quick else 1000)
    LOGS.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    with tempfile.TemporaryDirectory(prefix="bench-kannel-", dir=LOGS) as work_dir:
        work = Path(work_dir)
        result = {"bench": "sms_roundtrip", "started": started, "git": git_state(), "machine": machine(),
                  "calibration_s": calibrate(), "rates": rates, "seconds_per_level": args.seconds,
                  "customers": args.customers, "agents": args.agents,
                  "baseline": await baseline(work, args, rates), "hub": await hub_levels(work, args, rates)}
    (RESULTS / "sms.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print_table(result)
    print(f"results: {RESULTS / 'sms.json'}")


if __name__ == "__main__":
    asyncio.run(main())
