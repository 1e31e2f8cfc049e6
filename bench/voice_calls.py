"""Phone calls through a real Asterisk: calls per second through menu -> our ACD -> agent answer, how many
waiting calls one hub process holds, beside Asterisk alone (sipp straight to an echo, and Asterisk's own
menu + Dial to the agent's phone) measured in the same run.

Run:  .venv/bin/python bench/voice_calls.py [--quick] [--rates 2,5,10] [--seconds 10] [--talk-s 2]
      [--bench-agents 60] [--held-max 1200] [--held-rate 25] [--quiet-wait 60] [--out FILE]
      [--hub-only | --baseline-only | --held-only] [--no-held] [--count-ami-events] [--keep-work]

What happens (about 10 minutes on a quiet machine, 16 with other jobs and ``--quiet-wait 30``;
``--quick`` about 3):

1. **Asterisk alone** (one instance, no hub): the same sipp caller (UAC, a fixed call rate ``-r``, open
   loop: sipp starts calls on its own schedule whatever happened to earlier ones) dials
   * ``echo``: ``Answer() Echo()``, hanging up after the length of a hub call (menu + talk);
   * ``ivr-dial``: Asterisk's own version of the hub's call flow, no hub: ``Answer``, the hub's greeting,
     ``Read`` of the menu digit (same prompt, same digit at 2.5 s), the hub's wait prompt, then ``Dial``
     of an agent's endpoint (the same sipp agent phone, answering after 200 ms, hanging up after
     ``--talk-s``). The extensions are added at run time on this instance only (``dialplan add
     extension`` into ``hub-callers``, numbers 200 and 300); voice/dialplan.py is unchanged.
2. **The hub** (a fresh SecantusDB, redis-server, Asterisk and ``python -m hub serve`` per level, so a
   saturated level leaves no backlog behind): demo agents with billing (alice, chen, sara) plus
   ``--bench-agents`` agents made with ``hub.admin.create_agent`` (skills general+billing, voice capacity
   1), logged in over HTTP with a console socket (heartbeat every 10 s), available. Every agent's
   endpoint ``agent-<username>`` has a static contact on ONE sipp UAS (it serves any number of calls:
   answers after 200 ms, plays a tone, hangs up after ``--talk-s``). On ``wrap_up`` the agent resolves
   the conversation over HTTP (that frees her voice capacity). Callers press 1 (billing) 2.5 s after
   the answer, in their RTP (RFC 4733), and wait for the PBX's BYE.
3. **Held calls** (a fresh system): nobody is logged in; callers arrive at ``--held-rate`` per second and
   stay in line with music on hold, until ``--held-max`` or until the first failure (a sipp call
   failed, or callers are not queued 15 s after arriving); then 8 s of holding them all. Reported:
   calls held, CPU and RSS of every process while holding, and whether the hub still answers HTTP.

Timings come from three clocks of this machine (all ``time.time()``): Asterisk's (AMI events with
``timestampevents = yes``, set on this instance only), the hub's (its MongoDB ``events`` and ``calls``
documents) and this process's (the console ``offer`` frame when it arrives). Per call:

* *arrival*: AMI ``Newchannel`` of the caller's channel; *queued*/*offered*: the conversation's first
  ``queued``/``offered`` event; *offer frame*: the agent console's ``offer``; *ring*: AMI ``Newchannel``
  of the agent leg the hub originated (for ivr-dial: the ``Dial``'s leg); *answer*: AMI ``Newstate``
  Up of that leg.
* Reported: arrival->answer, offered->offer frame, ring->offer frame (negative: the console heard of
  the offer before Asterisk created the agent's leg), offered->ring, queued->offered; answered/s =
  answers over the span between the first and the last answer; sipp's successful and failed calls.
* CPU per process (hub, Asterisk, SecantusDB, redis, the two sipp, this generator, and everything else
  on the machine = "other") over each level, from /proc.

Results: a table on stdout and ``bench/results/voice.json``; logs in ``bench/results/logs/voice-*``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import secrets
import shutil
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import WSMsgType

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from runinfo import calibrate, child, git_state, machine, pct  # noqa: E402  (bench/ is the script's folder)
from webchat_roundtrip import CpuMeter, hub_env, loadavg, services, wait_for_quiet, wait_http  # noqa: E402

from tests.pbx_rig import running_pbx  # noqa: E402
from tests.sipp_phones import SCENARIOS, write_call_pcap  # noqa: E402
from voice.pbx_config import AgentPhone, PbxPlan, PbxPorts  # noqa: E402

RESULTS = ROOT / "bench" / "results"
LOGS = RESULTS / "logs"
PASSWORD = "bench-password-1"
DEMO_AGENTS = ("alice", "chen", "sara")  # the demo agents with the billing skill (menu digit 1)
CALLERS = 200  # caller endpoints cust0000..; sipp takes them in turn (-inf, SEQUENTIAL)
DIGIT, DIGIT_AT_MS = "1", 2500
ANSWER_MS = 200
ECHO_NUMBER, IVR_DIAL_NUMBER, HUB_NUMBER = "200", "300", "100"
UP = "6"  # AMI ChannelState of an answered channel


# ---------------------------------------------------------------------------------------------
# Small utilities
# ---------------------------------------------------------------------------------------------

def summary_ms(seconds: list[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50": _r(pct(ms, 50)), "p90": _r(pct(ms, 90)), "p99": _r(pct(ms, 99)),
            "max": _r(max(ms) if ms else None), "min": _r(min(ms) if ms else None)}


def _r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def rss_mb(pid: int) -> float | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def free_udp_range(count: int, low: int = 17000, high: int = 31000) -> int:
    """The first of ``count`` consecutive UDP ports on 127.0.0.1 that are free now (checked one by one)."""
    import random
    import socket

    for _ in range(100):
        start = random.randrange(low, high - count) & ~1
        ok = True
        for port in range(start, start + count):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return start
    raise RuntimeError(f"no {count} consecutive free UDP ports")


def epoch(value: Any) -> float | None:
    """A MongoDB datetime (naive = UTC) as seconds since the epoch."""
    if not isinstance(value, datetime):
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


# ---------------------------------------------------------------------------------------------
# The PBX: plan, the bench's own additions, an AMI monitor
# ---------------------------------------------------------------------------------------------

def make_plan(agi_port: int, agents: list[str], uas_port: int, rtp_ports: int) -> PbxPlan:
    from hub.embedded import free_port

    rtp = free_udp_range(rtp_ports)
    sip = free_udp_range(1, low=31000, high=32000)
    phones = tuple(AgentPhone(endpoint=f"agent-{name}", contact=f"sip:{name}@127.0.0.1:{uas_port}")
                   for name in agents)
    return PbxPlan(name=f"b{uuid.uuid4().hex[:12]}", ports=PbxPorts(sip=sip, ami=free_port(), rtp_start=rtp,
                   rtp_end=rtp + rtp_ports - 1), ami_user="hub", ami_secret=secrets.token_urlsafe(18),
                   agi_host="127.0.0.1", agi_port=agi_port, agents=phones,
                   callers=tuple(f"cust{i:04d}" for i in range(CALLERS)))


async def bench_config(instance: Any, with_baselines: bool, first_agent: str = "") -> None:
    """This instance only: AMI events carry Asterisk's timestamp; the baseline extensions (numbers
    200 and 300 in ``hub-callers``; explicit extensions win over its ``_X.`` pattern)."""
    manager = instance.directory / "etc" / "manager.conf"
    text = manager.read_text()
    if "timestampevents" not in text:
        manager.write_text(text.replace("[general]\n", "[general]\ntimestampevents = yes\n", 1))
    await instance.cli("manager reload")
    if not with_baselines:
        return
    lines = [f"{ECHO_NUMBER},1,Answer()", f"{ECHO_NUMBER},2,Echo()", f"{ECHO_NUMBER},3,Hangup()",
             f"{IVR_DIAL_NUMBER},1,Answer()", f"{IVR_DIAL_NUMBER},2,Playback(hello-world)",
             f"{IVR_DIAL_NUMBER},3,Read(CHOICE,vm-enter-num-to-call,1,,3,3)",
             f"{IVR_DIAL_NUMBER},4,Playback(pls-hold-while-try)",
             f"{IVR_DIAL_NUMBER},5,Dial(PJSIP/agent-{first_agent},30)", f"{IVR_DIAL_NUMBER},6,Hangup()"]
    for line in lines:
        out = await instance.cli(f"dialplan add extension {line} into hub-callers")
        if "added" not in out.lower():
            raise RuntimeError(f"dialplan add extension {line}: {out.strip()}")


@dataclass
class AmiMonitor:
    """Our own AMI login, filtered on the PBX side to the four events we time. With ``count_all``, a
    second, unfiltered login (like the hub's: it sets no filter) counts every event by name."""

    plan: PbxPlan
    count_all: bool = False
    events: list[dict[str, str]] = field(default_factory=list)
    manager: Any = None
    unfiltered: Any = None
    all_events: dict[str, int] = field(default_factory=dict)

    async def __aenter__(self) -> AmiMonitor:
        from panoramisk import Manager  # type: ignore[import-untyped]

        logged_in = asyncio.Event()
        self.manager = Manager(loop=asyncio.get_running_loop(), host="127.0.0.1", port=self.plan.ports.ami,
                               username=self.plan.ami_user, secret=self.plan.ami_secret, ping_delay=3600,
                               reconnect_timeout=0.5, on_login=lambda _m: logged_in.set())
        self.manager.register_event("*", self._on_event)
        await self.manager.connect()
        await asyncio.wait_for(logged_in.wait(), 10)
        if self.count_all:
            counted = asyncio.Event()
            self.unfiltered = Manager(loop=asyncio.get_running_loop(), host="127.0.0.1", port=self.plan.ports.ami,
                                      username=self.plan.ami_user, secret=self.plan.ami_secret, ping_delay=3600,
                                      reconnect_timeout=0.5, on_login=lambda _m: counted.set())
            self.unfiltered.register_event("*", self._count)
            await self.unfiltered.connect()
            await asyncio.wait_for(counted.wait(), 10)
        for name in ("Newchannel", "Newstate", "DialBegin", "Hangup"):
            answer = await self.manager.send_action({"Action": "Filter", "Operation": "Add",
                                                     "Filter": f"Event: {name}"})
            if str(answer.get("Response", "")).lower() != "success":
                raise RuntimeError(f"AMI Filter refused: {dict(answer)}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        for manager in (self.manager, self.unfiltered):
            if manager is not None:
                manager.close()

    def _count(self, _manager: Any, event: Any) -> None:
        name = str(event.get("Event"))
        self.all_events[name] = self.all_events.get(name, 0) + 1

    def _on_event(self, _manager: Any, event: Any) -> None:
        name = event.get("Event")
        if name in ("Newchannel", "Newstate", "DialBegin", "Hangup"):
            self.events.append({"Event": name, "Uniqueid": str(event.get("Uniqueid", "")),
                                "Channel": str(event.get("Channel", "")),
                                "ChannelState": str(event.get("ChannelState", "")),
                                "DestUniqueid": str(event.get("DestUniqueid", "")),
                                "Timestamp": str(event.get("Timestamp", "")), "received": str(time.time())})

    async def channels(self) -> int | None:
        """Live channels now (``core show channels count``)."""
        with contextlib.suppress(Exception):
            answer = await asyncio.wait_for(self.manager.send_action(
                {"Action": "Command", "Command": "core show channels count"}), 10)
            text = "\n".join(str(v) for v in (answer.get("Output") or answer.get("content") or [])) if isinstance(
                answer.get("Output"), list) else str(answer.get("Output", "")) + str(answer.get("content", ""))
            for line in text.splitlines():
                if "active channel" in line:
                    return int(line.split()[0])
        return None

    def timeline(self) -> dict[str, dict[str, float]]:
        """Per unique id: ``new`` (Newchannel), ``up`` (first Newstate Up), ``hangup``, plus ``channel``
        and, for a Dial's caller, ``dest`` (the dialled leg's unique id) in ``links``."""
        out: dict[str, dict[str, Any]] = {}
        for e in self.events:
            when = float(e["Timestamp"] or e["received"])
            entry = out.setdefault(e["Uniqueid"], {"channel": e["Channel"]})
            if e["Event"] == "Newchannel":
                entry.setdefault("new", when)
            elif e["Event"] == "Newstate" and e["ChannelState"] == UP:
                entry.setdefault("up", when)
            elif e["Event"] == "Hangup":
                entry.setdefault("hangup", when)
            elif e["Event"] == "DialBegin" and e["DestUniqueid"]:
                entry.setdefault("dest", e["DestUniqueid"])
                entry.setdefault("dial", when)
        return out


# ---------------------------------------------------------------------------------------------
# sipp: one UAS for every agent phone, one UAC for all callers
# ---------------------------------------------------------------------------------------------

@dataclass
class SippRun:
    name: str
    process: asyncio.subprocess.Process
    directory: Path

    def stats(self) -> dict[str, str]:
        files = sorted(self.directory.glob("*_.csv")) or sorted(self.directory.glob("*.csv"))
        if not files:
            return {}
        rows = [line.split(";") for line in files[-1].read_text().splitlines() if line.strip()]
        return dict(zip(rows[0], rows[-1], strict=False)) if len(rows) > 1 else {}

    def counts(self) -> dict[str, int]:
        stats = self.stats()

        def n(key: str) -> int:
            with contextlib.suppress(ValueError):
                return int(stats.get(key, "0") or 0)
            return 0

        return {"created": n("TotalCallCreated"), "current": n("CurrentCall"), "successful": n("SuccessfulCall(C)"),
                "failed": n("FailedCall(C)")}

    async def stop(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()


async def start_sipp(name: str, work: Path, scenario: str, args: list[str]) -> SippRun:
    from hub.embedded import _die_with_parent, free_port

    directory = work / name
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "scenario.xml").write_text(scenario)
    media = free_udp_range(4)
    full = [*args, "-sf", "scenario.xml", "-i", "127.0.0.1", "-mi", "127.0.0.1", "-mp", str(media),
            "-cp", str(free_port()), "-nostdin", "-trace_stat", "-fd", "1", "-trace_err"]
    with (directory / "sipp.out").open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            "sipp", *full, cwd=directory, stdin=asyncio.subprocess.DEVNULL, stdout=out,
            stderr=asyncio.subprocess.STDOUT, preexec_fn=_die_with_parent)
    return SippRun(name, process, directory)


async def agent_phones(work: Path, port: int, talk_s: float) -> SippRun:
    """One sipp UAS for every agent's endpoint: answers after 200 ms, a 1 kHz tone, BYE after ``talk_s``."""
    audio = write_call_pcap(work / "agent-tone.pcap", 1000, talk_s + 1)
    scenario = (SCENARIOS / "agent_hangs_up.xml").read_text().format(answer_ms=ANSWER_MS, audio=audio,
                                                                     hangup_ms=int(talk_s * 1000))
    run = await start_sipp("agents-uas", work, scenario, ["-p", str(port), "-m", "1000000"])
    deadline = time.monotonic() + 10
    import socket

    while True:  # listening once its SIP port is taken
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return run
        if process_done(run) or time.monotonic() > deadline:
            raise RuntimeError(f"sipp UAS did not start: {(run.directory / 'sipp.out').read_text()[-1500:]}")
        await asyncio.sleep(0.05)


def process_done(run: SippRun) -> bool:
    return run.process.returncode is not None


async def callers(work: Path, name: str, sip_port: int, number: str, rate: float, total: int, *,
                  hangup_ms: int | None, recv_timeout_s: int = 120) -> SippRun:
    """The callers: ``total`` calls at ``rate``/s (sipp's own schedule), From ``cust0000``.. in turn,
    digit 1 at 2.5 s in the RTP; then they hang up after ``hangup_ms`` or wait for the PBX's BYE."""
    pcap = work / "caller.pcap"
    if not pcap.exists():
        write_call_pcap(pcap, 440, 4.0, [(DIGIT_AT_MS, DIGIT)])
    (work / "callers.csv").write_text("SEQUENTIAL\n" + "".join(f"cust{i:04d};\n" for i in range(CALLERS)))
    if hangup_ms is None:
        ending = (SCENARIOS / "caller_waits.xml").read_text().format(user="[field0]")
    else:
        ending = (SCENARIOS / "caller_hangs_up.xml").read_text().format(user="[field0]", rest_ms=hangup_ms)
    scenario = (SCENARIOS / "caller.xml").read_text().format(user="[field0]", number=number, audio=pcap,
                                                             ending=ending)
    return await start_sipp(name, work, scenario, [
        f"127.0.0.1:{sip_port}", "-inf", str(work / "callers.csv"), "-p", str(free_udp_range(1)),
        "-r", f"{rate:g}", "-rp", "1000", "-m", str(total), "-l", "100000",
        "-recv_timeout", str(recv_timeout_s * 1000)])


# ---------------------------------------------------------------------------------------------
# Agents' consoles
# ---------------------------------------------------------------------------------------------

@dataclass
class Desk:
    offers: dict[str, float] = field(default_factory=dict)  # conversation id -> first offer frame (epoch s)
    offer_frames: int = 0
    resolved: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


class Console:
    """An agent: login, console socket with heartbeats, available; the phone does the answering.
    Resolves her conversations when they reach wrap-up (which frees her voice capacity)."""

    def __init__(self, base_url: str, username: str, password: str, desk: Desk) -> None:
        self.base_url, self.username, self.password, self.desk = base_url, username, password, desk
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                             timeout=aiohttp.ClientTimeout(total=120))
        self.csrf = ""
        self.me = ""
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self.done: set[str] = set()

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"X-CSRF-Token": self.csrf} if self.csrf else {}
        async with self.session.request(method, self.base_url + path, json=body, headers=headers) as resp:
            return resp.status, await resp.json(content_type=None)

    async def start(self, available: bool = True) -> None:
        status, data = await self.call("POST", "/api/login", {"username": self.username, "password": self.password})
        if status != 200:
            raise RuntimeError(f"login {self.username}: {status} {data}")
        self.csrf = data["csrf_token"]
        self.me = data.get("agent", {}).get("id", "")
        self.ws = await self.session.ws_connect(self.base_url.replace("http", "ws", 1) + "/console/ws",
                                                origin=self.base_url, max_msg_size=0)
        self._spawn(self._read())
        self._spawn(self._heartbeat())
        if not available:
            return
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
            now = time.time()
            frame = json.loads(msg.data)
            kind = frame.get("type")
            if kind == "hello":
                self.me = self.me or frame.get("agent", {}).get("id", "")
            elif kind == "offer":
                self.desk.offer_frames += 1
                self.desk.offers.setdefault(frame["conversation"]["id"], now)
            elif kind == "conversation":
                conversation = frame["conversation"]
                if (conversation.get("state") == "wrap_up" and conversation.get("agent_id") == self.me
                        and conversation["id"] not in self.done):
                    self.done.add(conversation["id"])
                    self._spawn(self._resolve(conversation["id"]))

    async def _resolve(self, conversation_id: str) -> None:
        try:
            status, data = await self.call("POST", f"/api/conversations/{conversation_id}/resolve")
        except aiohttp.ClientError as err:
            self.desk.error(f"resolve:{type(err).__name__}")
            return
        if status == 200:
            self.desk.resolved += 1
        else:
            self.desk.error(f"resolve:{status}:{(data or {}).get('code', '') if isinstance(data, dict) else ''}")

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.ws is not None:
            await self.ws.close()
        await self.session.close()


# ---------------------------------------------------------------------------------------------
# The systems
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Options:
    rates: list[float]
    seconds: float
    talk_s: float
    bench_agents: int
    held_max: int
    held_rate: float
    quiet_wait_s: float
    work: Path
    count_ami_events: bool = False


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cpu_and_rss(meter: CpuMeter, pids: dict[str, int], uac_cpu_s: float | None = None) -> dict[str, Any]:
    """The meter's per-process CPU; ``uac_cpu_s``: the sipp caller's CPU, read from this process's reaped
    children (sipp exits at the end of its calls and its /proc entry goes with it)."""
    wall = time.perf_counter() - meter._t0
    out: dict[str, Any] = meter.stop()
    out["wall_s"] = round(wall, 2)
    if uac_cpu_s is not None and wall > 0:
        pct_uac = round(100 * uac_cpu_s / wall, 1)
        out["sipp_callers_pct_of_1_core"] = pct_uac
        out["other_processes_pct_of_1_core"] = round(max(0.0, out["other_processes_pct_of_1_core"] - pct_uac), 1)
    out["rss_mb"] = {name: rss_mb(pid) for name, pid in pids.items()}
    return out


async def quiet(opts: Options) -> dict[str, float]:
    background, waited = await wait_for_quiet(opts.quiet_wait_s)
    return {"other_processes_pct_of_1_core": background, "waited_for_quiet_s": waited,
            "loadavg": " ".join(loadavg())}


async def wait_sipp(run: SippRun, within_s: float) -> bool:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(run.process.wait(), within_s)
        return True
    return False


async def baseline(opts: Options) -> dict[str, Any]:
    """Asterisk alone: echo and Asterisk's own menu + Dial, each rate, one instance."""
    from hub.embedded import free_port

    work = opts.work / "baseline"
    work.mkdir(parents=True, exist_ok=True)
    uas_port = free_udp_range(1)
    plan = make_plan(free_port(), ["bench000"], uas_port, 2000)
    levels: list[dict[str, Any]] = []
    async with running_pbx(plan, work) as rig:
        await bench_config(rig.instance, True, "bench000")
        uas = await agent_phones(work, uas_port, opts.talk_s)
        try:
            async with AmiMonitor(plan) as ami:
                for k, rate in enumerate(opts.rates):
                    for kind in ("echo", "ivr-dial"):
                        background = await quiet(opts)
                        total = max(1, round(rate * opts.seconds))
                        ami.events.clear()
                        pids = {"asterisk": rig.instance.pid or 0, "sipp_agents": uas.process.pid}
                        meter = CpuMeter(pids)
                        name = f"{kind}-{k}"
                        if kind == "echo":
                            uac = await callers(work, name, plan.ports.sip, ECHO_NUMBER, rate, total,
                                                hangup_ms=int((5.5 + opts.talk_s) * 1000))
                        else:
                            uac = await callers(work, name, plan.ports.sip, IVR_DIAL_NUMBER, rate, total,
                                                hangup_ms=None, recv_timeout_s=60)
                        pids["sipp_callers"] = uac.process.pid
                        meter.pids = pids
                        meter.start()
                        t0, reaped = time.time(), children_cpu_s()
                        finished = await wait_sipp(uac, opts.seconds + 60)
                        cpu = cpu_and_rss(meter, pids, children_cpu_s() - reaped if finished else None)
                        counts = uac.counts()
                        await uac.stop()
                        result = analyse_asterisk(kind, ami.timeline(), rate, total, counts, t0)
                        result.update(cpu=cpu, sipp_finished=finished, background_before=background,
                                      wall_s=round(time.time() - t0, 1))
                        levels.append(result)
                        print_level(result)
        finally:
            await uas.stop()
    return {"levels": levels}


def analyse_asterisk(kind: str, timeline: dict[str, dict[str, Any]], rate: float, total: int,
                     counts: dict[str, int], t0: float) -> dict[str, Any]:
    callers_ = {uid: e for uid, e in timeline.items() if e["channel"].startswith("PJSIP/cust") and "new" in e}
    answer_lat, ring_lat, answers = [], [], []
    for e in callers_.values():
        if kind == "echo":
            if "up" in e:
                answer_lat.append(e["up"] - e["new"])
                answers.append(e["up"])
            continue
        leg = timeline.get(e.get("dest", ""))
        if leg is None:
            continue
        if "new" in leg:
            ring_lat.append(leg["new"] - e["new"])
        if "up" in leg:
            answer_lat.append(leg["up"] - e["new"])
            answers.append(leg["up"])
    return {"system": kind, "offered_per_s": rate, "calls": total, "sipp": counts, "arrived": len(callers_),
            "answered": len(answers), "answered_per_s": per_s(answers),
            "arrival_to_answer_ms": summary_ms(answer_lat), "arrival_to_ring_ms": summary_ms(ring_lat)}


def per_s(instants: list[float]) -> float | None:
    if len(instants) < 2:
        return None
    span = max(instants) - min(instants)
    return round((len(instants) - 1) / span, 2) if span > 0 else None


@dataclass
class HubSystem:
    rig: Any
    base_url: str
    pids: dict[str, int]
    mongo_url: str
    names: list[str]
    log: Path
    log_offset: int
    uas: SippRun
    setup: dict[str, float]


async def create_agents(mongo_url: str, count: int) -> list[str]:
    from hub.admin import create_agent, load_demo
    from hub.storage.database import connect, ensure_indexes
    from hub.storage.directory import MongoDirectory

    client = connect(mongo_url)
    try:
        await ensure_indexes(client["bench"])
        directory = MongoDirectory(client["bench"])
        await load_demo(directory)
        names = [f"bench{i:03d}" for i in range(count)]
        await asyncio.gather(*(create_agent(directory, username=n, display_name=f"Bench Agent {n[5:]}",
                                            role="agent", password=PASSWORD, skills=["general", "billing"],
                                            capacity={"voice": 1}) for n in names))
        return names
    finally:
        await client.close()


@contextlib.asynccontextmanager
async def hub_system(opts: Options, label: str, rtp_ports: int) -> AsyncIterator[HubSystem]:
    """A fresh SecantusDB, redis, Asterisk, agents' sipp UAS and ``python -m hub serve`` with voice on."""
    from hub.demo import AGENTS
    from hub.embedded import free_port

    work = opts.work / label
    work.mkdir(parents=True, exist_ok=True)
    setup: dict[str, float] = {}
    t = time.monotonic()

    def lap(name: str) -> None:
        nonlocal t
        setup[name] = round(time.monotonic() - t, 1)
        t = time.monotonic()

    async with services() as (mongo, redis):
        lap("services_s")
        bench_names = await create_agents(mongo.url, opts.bench_agents)
        lap("agents_created_s")
        names = [u for u, *_ in AGENTS if u in DEMO_AGENTS] + bench_names
        agi_port, http_port, uas_port = free_port(), free_port(), free_udp_range(1)
        plan = make_plan(agi_port, [u for u, *_ in AGENTS] + bench_names, uas_port, rtp_ports)
        async with running_pbx(plan, work) as rig:
            await bench_config(rig.instance, False)
            lap("asterisk_s")
            uas = await agent_phones(work, uas_port, opts.talk_s)
            env = hub_env(mongo.url, redis.url, http_port)
            env.update({"HUB_VOICE__AMI_PORT": str(plan.ports.ami), "HUB_VOICE__AMI_USER": plan.ami_user,
                        "HUB_VOICE__AMI_SECRET": plan.ami_secret, "HUB_VOICE__AGI_PORT": str(agi_port),
                        "HUB_VOICE__RECORDINGS_DIR": str(rig.instance.recordings_dir_host),
                        "HUB_VOICE__MENU_TIMEOUT_S": "3", "HUB_VOICE__RING_TIMEOUT_S": "15",
                        "HUB_ROUTING__OFFER_TIMEOUT_S": "20"})
            log = LOGS / f"voice-hub-{label}.log"
            log.unlink(missing_ok=True)
            try:
                with child([sys.executable, "-m", "hub", "serve"], env, log) as process:
                    base_url = f"http://127.0.0.1:{http_port}"
                    await wait_http(base_url + "/healthz", process)
                    lap("hub_http_s")
                    await wait_line_up(base_url, process)
                    lap("voice_line_up_s")
                    yield HubSystem(rig=rig, base_url=base_url, mongo_url=mongo.url, names=names, log=log,
                                    log_offset=0, uas=uas, setup=setup,
                                    pids={"hub": process.pid, "asterisk": rig.instance.pid or 0,
                                          "secantus": mongo.process.pid, "redis": redis.process.pid,
                                          "sipp_agents": uas.process.pid})
                    if process.poll() is not None:
                        raise RuntimeError(f"the hub exited with {process.returncode} during the run (see {log})")
            finally:
                await uas.stop()


async def wait_line_up(base_url: str, process: Any, within_s: float = 60) -> None:
    deadline = time.monotonic() + within_s
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError("the hub exited during start-up")
            with contextlib.suppress(aiohttp.ClientError, OSError, ValueError):
                async with http.get(base_url + "/readyz") as resp:
                    data = await resp.json(content_type=None)
                    if any(loop.get("name") == "channels:voice:line" and loop.get("state") == "running"
                           for loop in data.get("loops", [])):
                        return
            await asyncio.sleep(0.2)
    raise RuntimeError("the hub's voice line did not come up")


def scan_log(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    text = path.read_text(errors="replace")
    lines = text.splitlines()
    notable = [line for line in lines if " ERROR " in line or " WARNING " in line]
    return {"error_lines": sum(" ERROR " in line for line in lines),
            "warning_lines": sum(" WARNING " in line for line in lines),
            "ring_not_answered": text.count("voice.ring.not_answered"),
            "enqueue_deferred": text.count("routing.enqueue.deferred"),
            "asyncio_callback_errors": text.count("ERROR asyncio Exception in callback"),
            "after_stopping_error_lines": text.partition("hub.stopping")[2].count(" ERROR "),
            "answered_too_late": text.count("voice.ring.answered_too_late"),
            "first_notable_lines": [line[:400] for line in notable[:12]]}


async def mongo_calls(mongo_url: str) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    from hub.storage.database import connect

    client = connect(mongo_url)
    try:
        db = client["bench"]
        calls = await db["calls"].find({}).to_list(None)
        events: dict[str, list[dict[str, Any]]] = {}
        async for e in db["events"].find({"type": {"$in": ["queued", "offered", "assigned", "call_ended",
                                                            "offer_timed_out", "abandoned"]}},
                                         {"conversation_id": 1, "type": 1, "at": 1}):
            events.setdefault(e["conversation_id"], []).append(e)
        return calls, events
    finally:
        await client.close()


async def hub_level(opts: Options, k: int, rate: float) -> dict[str, Any]:
    background = await quiet(opts)
    total = max(1, round(rate * opts.seconds))
    t_setup = time.monotonic()
    async with hub_system(opts, f"hub-{k}", 2000) as system:
        desk = Desk()
        from hub.demo import DEMO_PASSWORD

        consoles = [Console(system.base_url, n, PASSWORD if n.startswith("bench") else DEMO_PASSWORD, desk)
                    for n in system.names]
        try:
            t_login = time.monotonic()
            for i in range(0, len(consoles), 10):
                await asyncio.gather(*(c.start() for c in consoles[i:i + 10]))
            system.setup["agents_logged_in_s"] = round(time.monotonic() - t_login, 1)
            setup_s = round(time.monotonic() - t_setup, 1)
            await asyncio.sleep(1.0)
            speed = calibrate()
            async with AmiMonitor(system.rig.plan, count_all=opts.count_ami_events) as ami:
                pids = dict(system.pids)
                meter = CpuMeter(pids)
                uac = await callers(opts.work / f"hub-{k}", "callers", system.rig.plan.ports.sip, HUB_NUMBER, rate,
                                    total, hangup_ms=None, recv_timeout_s=90)
                pids["sipp_callers"] = uac.process.pid
                meter.pids = pids
                meter.start()
                t0, reaped = time.time(), children_cpu_s()
                finished = await wait_sipp(uac, opts.seconds + 90)
                cpu = cpu_and_rss(meter, pids, children_cpu_s() - reaped if finished else None)
                counts = uac.counts()
                await uac.stop()
                await asyncio.sleep(1.0)  # the last resolves
                timeline = ami.timeline()
                all_events = dict(ami.all_events)
            gaps = music_gaps(system.rig.instance.log_path)
            calls, events = await mongo_calls(system.mongo_url)
        finally:
            await asyncio.gather(*(c.close() for c in consoles), return_exceptions=True)
    result = analyse_hub(timeline, calls, events, desk, rate, total, counts)
    result["wait_prompt_to_music"] = gaps
    top = sorted(all_events.items(), key=lambda kv: -kv[1])
    result["ami_events_unfiltered"] = {} if not all_events else {"total": sum(all_events.values()),
                                       "per_call": _r(sum(all_events.values()) / max(total, 1)),
                                       "used_by_the_line": sum(all_events.get(n, 0) for n in (
                                           "Newchannel", "Hangup", "DialBegin", "DialEnd")),
                                       "top": dict(top[:12])}
    result.update(cpu=cpu, sipp_finished=finished, background_before=background, setup_s=setup_s,
                  calibration_loop_s=speed, wall_s=round(time.time() - t0, 1), agents=len(system.names),
                  setup_phases=system.setup,
                  hub_log=scan_log(system.log), desk_errors=desk.errors, resolved=desk.resolved,
                  offer_frames=desk.offer_frames)
    print_level(result)
    return result


def analyse_hub(timeline: dict[str, dict[str, Any]], calls: list[dict[str, Any]],
                events: dict[str, list[dict[str, Any]]], desk: Desk, rate: float, total: int,
                counts: dict[str, int]) -> dict[str, Any]:
    arrived = {uid: e for uid, e in timeline.items() if e["channel"].startswith("PJSIP/cust") and "new" in e}
    lat: dict[str, list[float]] = {k: [] for k in ("arrival_to_queued", "queued_to_offered", "offered_to_frame",
                                                   "offered_to_ring", "ring_to_frame", "arrival_to_ring",
                                                   "arrival_to_answer", "ring_to_answer")}
    answers: list[float] = []
    choices: dict[str, int] = {}
    reoffered = 0
    for call in calls:
        choices[str(call.get("choice"))] = choices.get(str(call.get("choice")), 0) + 1
        caller = arrived.get(call["_id"])
        conv = call["conversation_id"]
        evs = events.get(conv, [])

        def first(kind: str, evs: list[dict[str, Any]] = evs) -> float | None:
            times = [epoch(e["at"]) for e in evs if e["type"] == kind]
            return min((t for t in times if t is not None), default=None)

        queued, offered = first("queued"), first("offered")
        reoffered += sum(e["type"] == "offered" for e in evs) > 1
        frame = desk.offers.get(conv)
        leg = timeline.get(call.get("agent_leg") or "", {})
        if caller is not None and queued is not None:
            lat["arrival_to_queued"].append(queued - caller["new"])
        if queued is not None and offered is not None:
            lat["queued_to_offered"].append(offered - queued)
        if offered is not None and frame is not None:
            lat["offered_to_frame"].append(frame - offered)
        if offered is not None and "new" in leg:
            lat["offered_to_ring"].append(leg["new"] - offered)
        if frame is not None and "new" in leg:
            lat["ring_to_frame"].append(frame - leg["new"])
        if caller is not None and "new" in leg:
            lat["arrival_to_ring"].append(leg["new"] - caller["new"])
        if "up" in leg and "new" in leg:
            lat["ring_to_answer"].append(leg["up"] - leg["new"])
        if caller is not None and "up" in leg:
            lat["arrival_to_answer"].append(leg["up"] - caller["new"])
            answers.append(leg["up"])
    answered = sum(1 for c in calls if c.get("answered_at") is not None)
    ended = sum(1 for c in calls if c.get("ended_at") is not None)
    return {"system": "hub", "offered_per_s": rate, "calls": total, "sipp": counts, "arrived": len(arrived),
            "queued": len(calls), "answered": answered, "ended": ended, "reoffered_calls": reoffered,
            "menu_choices": choices, "answered_per_s": per_s(answers),
            **{f"{k}_ms": summary_ms(v) for k, v in lat.items()}}


# ---------------------------------------------------------------------------------------------
# (b) How many waiting calls one hub process holds
# ---------------------------------------------------------------------------------------------

async def held_calls(opts: Options) -> dict[str, Any]:
    from hub.demo import DEMO_PASSWORD
    from hub.storage.database import connect

    background = await quiet(opts)
    rtp_ports = 2 * opts.held_max + 200
    async with hub_system(opts, "held", rtp_ports) as system:
        client = connect(system.mongo_url)
        db = client["bench"]
        samples: list[dict[str, Any]] = []
        stop_reason = "reached --held-max"
        try:
            async with AmiMonitor(system.rig.plan) as ami, aiohttp.ClientSession(
                    timeout=aiohttp.ClientTimeout(total=120)) as http:
                pids = dict(system.pids)
                uac = await callers(opts.work / "held", "callers", system.rig.plan.ports.sip, HUB_NUMBER,
                                    opts.held_rate, opts.held_max, hangup_ms=None, recv_timeout_s=3600)
                pids["sipp_callers"] = uac.process.pid
                t0 = time.time()
                meter = CpuMeter(pids)
                meter.start()
                last = time.time()
                while True:
                    await asyncio.sleep(2.0)
                    queued = await db["conversations"].count_documents({"channel": "voice", "state": "queued"})
                    counts = uac.counts()
                    now = time.time()
                    sample = {"t_s": round(now - t0, 1), "sipp": counts, "queued": queued,
                              "cpu": meter.stop(), "rss_mb": {n: rss_mb(p) for n, p in pids.items()}}
                    meter.start()
                    samples.append(sample)
                    print(f"  held: t={sample['t_s']:>5}s created={counts['created']:>5} queued={queued:>5} "
                          f"failed={counts['failed']} hub cpu={sample['cpu'].get('hub_pct_of_1_core')}% "
                          f"db cpu={sample['cpu'].get('secantus_pct_of_1_core')}% "
                          f"asterisk cpu={sample['cpu'].get('asterisk_pct_of_1_core')}% "
                          f"other={sample['cpu'].get('other_processes_pct_of_1_core')}%", flush=True)
                    behind = counts["created"] - queued - opts.held_rate * 8  # ~8 s of menu in flight
                    if counts["failed"] > 0:
                        stop_reason = f"sipp: {counts['failed']} failed calls"
                        break
                    if behind > opts.held_rate * 15:
                        stop_reason = f"{counts['created'] - queued} callers not queued 15 s after arriving"
                        break
                    if counts["created"] >= opts.held_max and queued >= counts["created"] - counts["failed"]:
                        break
                    if now - last > 0 and now - t0 > opts.held_max / opts.held_rate + 60:
                        stop_reason = "timed out waiting for the last callers to be queued"
                        break
                # Hold them all for a while: the steady cost of waiting calls.
                held_at = time.time()
                meter = CpuMeter(pids)
                meter.start()
                await asyncio.sleep(8.0)
                hold_cpu = cpu_and_rss(meter, pids)
                channels = await ami.channels()
                queued = await db["conversations"].count_documents({"channel": "voice", "state": "queued"})
                counts = uac.counts()
                t = time.perf_counter()
                async with http.get(system.base_url + "/readyz") as resp:
                    ready = {"status": resp.status, "ms": round((time.perf_counter() - t) * 1000, 1),
                             "body": await resp.json(content_type=None)}
                probe = Console(system.base_url, "alice", DEMO_PASSWORD, Desk())
                t = time.perf_counter()
                try:
                    await probe.start(available=False)
                    login_ms: float | None = round((time.perf_counter() - t) * 1000, 1)
                except Exception as err:  # reported, not raised
                    login_ms = None
                    ready["login_error"] = repr(err)[:300]
                finally:
                    await probe.close()
                gaps = music_gaps(system.rig.instance.log_path)
                await uac.stop()
                timeline = ami.timeline()
            calls, events = await mongo_calls(system.mongo_url)
        finally:
            await client.close()
    menu = analyse_menu(timeline, calls, events)
    result = {"arrival_to_queued_ms": menu, "wait_prompt_to_music": gaps, "offered_per_s": opts.held_rate,
              "max_calls": opts.held_max, "stop_reason": stop_reason,
              "held_queued": queued, "asterisk_channels": channels, "sipp_at_end": counts,
              "ramp_s": round(held_at - t0, 1), "hold_cpu": hold_cpu, "ready_probe": ready,
              "agent_login_ms_while_holding": login_ms, "samples": samples, "background_before": background,
              "hub_log": scan_log(system.log)}
    print(f"held: {queued} queued calls ({channels} Asterisk channels), stop: {stop_reason}; while holding: "
          f"hub {hold_cpu.get('hub_pct_of_1_core')}% CPU, RSS {hold_cpu['rss_mb'].get('hub')} MB; asterisk "
          f"{hold_cpu.get('asterisk_pct_of_1_core')}% RSS {hold_cpu['rss_mb'].get('asterisk')} MB; arrival->queued "
          f"p50/p99 {menu['all']['p50']}/{menu['all']['p99']} ms (first third {menu['first_third']['p50']}, last "
          f"third {menu['last_third']['p50']} ms p50); wait prompt -> music p50/p99 "
          f"{gaps['prompt_to_music_ms']['p50']}/{gaps['prompt_to_music_ms']['p99']} ms", flush=True)
    return result


_AST_LINE = re.compile(r"\[(\S+ \S+)\] \w+\[\d+\]\[(C-[0-9a-f]+)\] (.*)")


def music_gaps(log_path: Path, prompt: str = "pls-hold-while-try") -> dict[str, Any]:
    """From Asterisk's own log: per caller, the wait prompt starting (``Playing '<prompt>``, 2.4 s) ->
    music on hold starting. Up to 9ae6625 the music started only once the hub had stored and queued the
    call (``HUB_NEXT=wait``), so the gap less the prompt was the silence the caller heard; since then
    the menu sets ``SET MUSIC ON`` right after the prompt and the gap should stay at the prompt's length."""
    played: dict[str, float] = {}
    music: dict[str, float] = {}
    with contextlib.suppress(OSError), log_path.open(errors="replace") as log:
        for line in log:
            match = _AST_LINE.match(line)
            if match is None:
                continue
            when = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()
            if f"Playing '{prompt}" in match.group(3):
                played.setdefault(match.group(2), when)
            elif "Started music on hold" in match.group(3):
                music.setdefault(match.group(2), when)
    gaps = [music[c] - t for c, t in played.items() if c in music]
    return {"prompt_to_music_ms": summary_ms(gaps), "prompt_played_no_music_yet": sum(c not in music for c in played)}


def analyse_menu(timeline: dict[str, dict[str, Any]], calls: list[dict[str, Any]],
                 events: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Arrival (AMI) -> queued (MongoDB) of every call, all of them and by arrival order (first and
    last third): the menu's prompts take about 5 s; the rest is waiting for CPU, the AGI or the hub."""
    pairs = []
    for call in calls:
        caller = timeline.get(call["_id"], {})
        queued = [epoch(e["at"]) for e in events.get(call["conversation_id"], []) if e["type"] == "queued"]
        if "new" in caller and queued and queued[0] is not None:
            pairs.append((caller["new"], queued[0] - caller["new"]))
    pairs.sort()
    third = max(1, len(pairs) // 3)
    return {"all": summary_ms([d for _, d in pairs]), "first_third": summary_ms([d for _, d in pairs[:third]]),
            "last_third": summary_ms([d for _, d in pairs[-third:]])}


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

def _f(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:,.1f}" if isinstance(value, float) else str(value)


def print_level(r: dict[str, Any]) -> None:
    cpu = r.get("cpu", {})
    lat = r.get("arrival_to_answer_ms", {})
    parts = [f"{r['system']:>8} {r['offered_per_s']:>5}/s: sipp ok {r['sipp'].get('successful')} "
             f"failed {r['sipp'].get('failed')} of {r['calls']}; answered/s {_f(r.get('answered_per_s'))}; "
             f"arrival->answer p50/p99 {_f(lat.get('p50'))}/{_f(lat.get('p99'))} ms"]
    if r["system"] == "hub":
        o, g = r["offered_to_frame_ms"], r["ring_to_frame_ms"]
        parts.append(f"offered->frame {_f(o['p50'])}/{_f(o['p99'])} ms; ring->frame {_f(g['p50'])}/{_f(g['p99'])} ms; "
                     f"choices {r['menu_choices']}")
    parts.append("cpu%: " + ", ".join(f"{k.replace('_pct_of_1_core', '')} {v}" for k, v in cpu.items()
                                      if k.endswith("_pct_of_1_core")))
    print("  " + "; ".join(parts), flush=True)


SERVER = {"hub": ("hub", "asterisk", "secantus", "redis"), "echo": ("asterisk",), "ivr-dial": ("asterisk",)}


def cpu_ms_per_call(level: dict[str, Any]) -> dict[str, float | None]:
    """CPU milliseconds per offered call of each process, and of the system under test together."""
    cpu, calls = level.get("cpu", {}), max(level.get("calls", 0), 1)
    wall = cpu.get("wall_s") or 0.0
    out: dict[str, float | None] = {}
    for key, value in cpu.items():
        if key.endswith("_pct_of_1_core") and key != "other_processes_pct_of_1_core":
            out[key.removesuffix("_pct_of_1_core")] = _r(value / 100 * wall / calls * 1000)
    out["server"] = _r(sum(v or 0.0 for k, v in out.items() if k in SERVER[level["system"]]))
    return out


def compare(base: list[dict[str, Any]], hub: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Hub / Asterisk alone at the same offered rate. Against ``echo`` only throughput and CPU compare
    (an echo has no menu); against ``ivr-dial`` (the same prompts, digit and agent phone) the time
    from arrival to the agent's answer compares too, as a ratio and as the milliseconds the hub adds."""
    rows = []
    for h in hub:
        row: dict[str, Any] = {"offered_per_s": h["offered_per_s"]}
        for b in base:
            if b["offered_per_s"] != h["offered_per_s"]:
                continue
            key = b["system"]
            row[f"answered_per_s_hub_over_{key}"] = _ratio(h.get("answered_per_s"), b.get("answered_per_s"))
            row[f"server_cpu_per_call_hub_over_{key}"] = _ratio(cpu_ms_per_call(h)["server"],
                                                                cpu_ms_per_call(b)["server"])
            row[f"asterisk_cpu_per_call_hub_over_{key}"] = _ratio(cpu_ms_per_call(h).get("asterisk"),
                                                                  cpu_ms_per_call(b).get("asterisk"))
            if key == "ivr-dial":
                for q in ("p50", "p99"):
                    hv, bv = h["arrival_to_answer_ms"][q], b["arrival_to_answer_ms"][q]
                    row[f"arrival_to_answer_{q}_hub_over_ivr-dial"] = _ratio(hv, bv)
                    row[f"arrival_to_answer_{q}_hub_minus_ivr-dial_ms"] = _r(hv - bv) if hv and bv else None
        rows.append(row)
    return rows


def print_summary(result: dict[str, Any]) -> None:
    levels = result.get("baseline", {}).get("levels", []) + result.get("hub", {}).get("levels", [])
    if levels:
        print("\nsystem   | offered/s | answered/s | sipp ok/failed | arrival->answer p50/p99 ms | offered->offer "
              "frame | ring->offer frame | queued->offered | CPU ms/call server (hub/ast/db) | other %")
    for r in levels:
        per = cpu_ms_per_call(r)
        lat = r["arrival_to_answer_ms"]
        hub = r["system"] == "hub"

        def pair(key: str, r: dict[str, Any] = r, hub: bool = hub) -> str:
            v = r.get(key) or {}
            return f"{_f(v.get('p50'))} / {_f(v.get('p99'))}" if hub else ""

        detail = f"{per['server']} ({per.get('hub')}/{per.get('asterisk')}/{per.get('secantus')})" if hub else \
            f"{per['server']}"
        print(f"{r['system']:<8} | {r['offered_per_s']:>9} | {_f(r.get('answered_per_s')):>10} | "
              f"{r['sipp']['successful']}/{r['sipp']['failed']} of {r['calls']} | "
              f"{_f(lat['p50'])} / {_f(lat['p99'])} | "
              f"{pair('offered_to_frame_ms')} | {pair('ring_to_frame_ms')} | {pair('queued_to_offered_ms')} | "
              f"{detail} | {r['cpu'].get('other_processes_pct_of_1_core')}")
    held = result.get("held")
    if held:
        c = held["hold_cpu"]
        print(f"held: {held['held_queued']} waiting calls ({held['stop_reason']}); while holding, "
              "% of a core / RSS MB: "
              f"hub {c.get('hub_pct_of_1_core')} / {c['rss_mb'].get('hub')}, asterisk {c.get('asterisk_pct_of_1_core')}"
              f" / {c['rss_mb'].get('asterisk')}, secantus {c.get('secantus_pct_of_1_core')} / "
              f"{c['rss_mb'].get('secantus')}, other {c.get('other_processes_pct_of_1_core')}")


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else round(a / b, 2)


async def main_async(args: argparse.Namespace) -> int:
    rates = [float(r) for r in args.rates.split(",") if r] or ([4.0, 12.0] if args.quick else [2.0, 5.0, 10.0, 15.0])
    LOGS.mkdir(parents=True, exist_ok=True)
    work = Path(args.work) if args.work else LOGS / f"voice-work-{datetime.now(UTC):%H%M%S}"
    work.mkdir(parents=True, exist_ok=True)
    opts = Options(rates=rates, seconds=args.seconds or (6.0 if args.quick else 12.0), talk_s=args.talk_s,
                   bench_agents=args.bench_agents or (32 if args.quick else 60),
                   held_max=args.held_max or (200 if args.quick else 1200),
                   held_rate=args.held_rate or 25.0, quiet_wait_s=args.quiet_wait,
                   work=work, count_ami_events=args.count_ami_events)
    started = time.monotonic()
    result: dict[str, Any] = {
        "bench": "voice_calls", "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "git": {**git_state(), "dirty_voice_files": dirty_voice()}, "machine": machine(),
        "calibration_s": calibrate(), "loadavg_at_start": " ".join(loadavg()),
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in opts.__dict__.items()},
    }
    out = Path(args.out) if args.out else RESULTS / "voice.json"
    try:
        if not args.hub_only and not args.held_only:
            print("Asterisk alone (echo; Asterisk's own menu + Dial):", flush=True)
            result["baseline"] = await baseline(opts)
            out.write_text(json.dumps(result, indent=2, default=str))
        if not args.baseline_only:
            if not args.held_only:
                print("Hub (menu -> our ACD -> agent's phone):", flush=True)
                result["hub"] = {"levels": [await hub_level(opts, k, rate) for k, rate in enumerate(rates)]}
                out.write_text(json.dumps(result, indent=2, default=str))
            if not args.no_held:
                print("Held calls (nobody available):", flush=True)
                result["held"] = await held_calls(opts)
        for part in ("baseline", "hub"):
            for level in result.get(part, {}).get("levels", []):
                level["cpu_ms_per_call"] = cpu_ms_per_call(level)
        print_summary(result)
        if "baseline" in result and "hub" in result:
            result["ratios"] = compare(result["baseline"]["levels"], result["hub"]["levels"])
            for row in result["ratios"]:
                print("  ratio " + ", ".join(f"{k} {v}" for k, v in row.items()), flush=True)
    finally:
        result["wall_s"] = round(time.monotonic() - started, 1)
        out.write_text(json.dumps(result, indent=2, default=str))
        if not args.keep_work:
            shutil.rmtree(work, ignore_errors=True)
    print(f"results: {out} ({result['wall_s']} s)")
    return 0


def dirty_voice() -> list[str]:
    import subprocess

    out = subprocess.run(["git", "status", "--porcelain", "--", "voice", "tests/pbx_rig.py", "tests/sipp_phones.py"],
                         cwd=ROOT, capture_output=True, text=True, timeout=10).stdout
    return [line[3:] for line in out.splitlines()]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="4 and 12 calls/s, 6 s each, 35 agents, 200 held calls (~3 min)")
    parser.add_argument("--rates", default="", help="calls per second offered, comma-separated")
    parser.add_argument("--seconds", type=float, default=0.0, help="seconds of calls per level")
    parser.add_argument("--talk-s", type=float, default=2.0, help="how long the agent's phone talks")
    parser.add_argument("--bench-agents", type=int, default=0, help="agents besides alice, chen and sara")
    parser.add_argument("--held-max", type=int, default=0, help="stop the held-calls ramp here")
    parser.add_argument("--held-rate", type=float, default=0.0, help="arrivals per second in the ramp")
    parser.add_argument("--quiet-wait", type=float, default=0.0,
                        help="wait up to S seconds before each level for other processes to drop below 1/4 core")
    parser.add_argument("--count-ami-events", action="store_true",
                        help="hub levels: a second, unfiltered AMI login counts every event (as the hub gets "
                             "them); it costs Asterisk CPU, so it is off by default")
    parser.add_argument("--hub-only", action="store_true")
    parser.add_argument("--baseline-only", action="store_true")
    parser.add_argument("--no-held", action="store_true")
    parser.add_argument("--held-only", action="store_true")
    parser.add_argument("--out", default="")
    parser.add_argument("--work", default="", help="sipp's and Asterisk's files (default under bench/results/logs)")
    parser.add_argument("--keep-work", action="store_true")
    args = parser.parse_args()
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
