"""A private Asterisk (``voice.pbx``) on free loopback ports for tests, its AMI, sipp phones, recordings.

``running_pbx`` builds the chroot when missing (``scripts/asterisk.sh setup``, which fails loudly when
it cannot), starts an instance with a random name and AMI secret, and stops it (by PID) and removes
its directory whatever happened; its log is copied into the test's work directory first.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import math
import os
import secrets
import shutil
import subprocess
import uuid
import wave
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from panoramisk import Manager  # type: ignore[import-untyped]

from hub.embedded import free_port
from tests.sipp_phones import SippPhones, free_udp_ports
from voice.pbx import DEFAULT_ROOT, AsteriskInstance
from voice.pbx_config import AgentPhone, PbxPlan, PbxPorts

PROJECT = Path(__file__).resolve().parent.parent
ASTERISK_ROOT = Path(os.environ.get("HUB_ASTERISK_ROOT", str(DEFAULT_ROOT)))
RTP_PORTS = 100
Event = Mapping[str, Any]


def setup() -> None:
    """Build the chroot if missing (idempotent; a fraction of a second when done)."""
    subprocess.run([str(PROJECT / "scripts" / "asterisk.sh"), "setup"], check=True, timeout=1800,
                   stdout=subprocess.DEVNULL)


def free_pbx_ports() -> PbxPorts:
    """SIP (UDP), AMI (TCP) and a range of ``RTP_PORTS`` UDP ports, all free on 127.0.0.1 now."""
    while True:
        rtp = free_udp_ports(RTP_PORTS)
        sip = free_udp_ports()
        if not rtp <= sip < rtp + RTP_PORTS:
            return PbxPorts(sip=sip, ami=free_port(), rtp_start=rtp, rtp_end=rtp + RTP_PORTS - 1)


def test_plan(*, agi_port: int, agents: tuple[AgentPhone, ...] = (), callers: tuple[str, ...] = ("customer",),
              name: str | None = None) -> PbxPlan:
    return PbxPlan(name=name or f"t{uuid.uuid4().hex[:12]}", ports=free_pbx_ports(), ami_user="hub",
                   ami_secret=secrets.token_urlsafe(18), agi_host="127.0.0.1", agi_port=agi_port,
                   agents=agents, callers=callers)


test_plan.__test__ = False  # type: ignore[attr-defined]  # a factory, not a test


@dataclass
class AmiSession:
    """A logged-in panoramisk Manager and every event it received, in order."""

    manager: Any
    events: list[Event] = field(default_factory=list)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def on_event(self, _manager: Any, event: Event) -> None:
        self.events.append(event)
        self._arrived.set()

    async def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 20.0, *,
                       since: int = 0) -> Event:
        """The first event (from index ``since``) that satisfies ``predicate``, waiting for it."""
        async with asyncio.timeout(timeout):
            seen = since
            while True:
                for event in self.events[seen:]:
                    if predicate(event):
                        return event
                seen = len(self.events)
                self._arrived.clear()
                await self._arrived.wait()

    async def action(self, **fields: Any) -> Any:
        return await self.manager.send_action(fields)


@contextlib.asynccontextmanager
async def ami_session(plan: PbxPlan, timeout: float = 10.0) -> AsyncIterator[AmiSession]:
    """Log into the instance's AMI; panoramisk's connect() returns at TCP connect, so wait for the login."""
    logged_in = asyncio.Event()
    manager = Manager(loop=asyncio.get_running_loop(), host="127.0.0.1", port=plan.ports.ami,
                      username=plan.ami_user, secret=plan.ami_secret, ping_delay=60, reconnect_timeout=0.5,
                      on_login=lambda _manager: logged_in.set())
    session = AmiSession(manager)
    manager.register_event("*", session.on_event)
    try:
        await manager.connect()
        async with asyncio.timeout(timeout):
            await logged_in.wait()
        yield session
    finally:
        manager.close()


@dataclass
class PbxRig:
    instance: AsteriskInstance
    phones: SippPhones
    work: Path

    @property
    def plan(self) -> PbxPlan:
        return self.instance.plan


@contextlib.asynccontextmanager
async def running_pbx(plan: PbxPlan, work: Path) -> AsyncIterator[PbxRig]:
    await asyncio.to_thread(setup)
    await asyncio.to_thread(work.mkdir, parents=True, exist_ok=True)
    instance = AsteriskInstance(ASTERISK_ROOT, plan)
    phones = SippPhones(plan.ports.sip, work)
    try:
        await instance.start()
        yield PbxRig(instance, phones, work)
    finally:
        await phones.close()
        await instance.stop()
        if instance.log_path.exists():
            shutil.copyfile(instance.log_path, work / f"asterisk-{plan.name}.log")
        shutil.rmtree(instance.directory, ignore_errors=True)


# -- recordings -------------------------------------------------------------------------------------

def read_wav(path: Path) -> array.array[int]:
    """The samples of a 16-bit mono wav (what MixMonitor writes)."""
    with wave.open(str(path)) as wav:
        assert wav.getsampwidth() == 2 and wav.getnchannels() == 1, path
        samples = array.array("h")
        samples.frombytes(wav.readframes(wav.getnframes()))
        return samples


def rms(samples: array.array[int]) -> float:
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


def tone_level(samples: array.array[int], frequency: float, rate: int = 8000) -> float:
    """The amplitude of ``frequency`` in ``samples`` (Goertzel), comparable to ``rms * sqrt(2)``."""
    if not samples:
        return 0.0
    coefficient = 2 * math.cos(2 * math.pi * frequency / rate)
    previous = before = 0.0
    for sample in samples:
        previous, before = sample + coefficient * previous - before, previous
    power = previous * previous + before * before - coefficient * previous * before
    return 2 * math.sqrt(max(power, 0.0)) / len(samples)


def wav_complete(path: Path) -> bool:
    """True once the writer closed the file: the RIFF header's sizes match the file's size."""
    try:
        header = path.read_bytes()[:44]
        size = path.stat().st_size
    except OSError:
        return False
    return len(header) == 44 and int.from_bytes(header[4:8], "little") == size - 8 and size > 44


async def wait_until(condition: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    """Poll ``condition`` until it holds (tests wait for state, they do not sleep a fixed time)."""
    try:
        async with asyncio.timeout(timeout):
            while not condition():  # noqa: ASYNC110 - files and sockets, nothing to await
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise TimeoutError(f"waited {timeout} s for {what}") from None
