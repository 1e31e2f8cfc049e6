"""The PBX infrastructure against a real Asterisk 22 (chroot) with sipp as phones, all on loopback.

No hub here: a tiny FastAGI server stands where the hub's AGI application will be. In FastAGI the
server sends the commands and Asterisk answers each with ``200 result=...``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from hub.embedded import free_udp_ports, udp_port_free
from tests.pbx_rig import (
    ASTERISK_ROOT,
    AmiSession,
    Event,
    PbxRig,
    ami_session,
    read_wav,
    rms,
    running_pbx,
    setup,
    test_plan,
    tone_level,
    wait_until,
    wav_complete,
)
from tests.sipp_phones import Sipp
from voice.pbx import AsteriskInstance, PbxError
from voice.pbx_config import AgentPhone


class FakeAgi:
    """Reads each request's ``agi_*`` header, sends ``commands`` one by one, keeps the replies, closes."""

    def __init__(self, commands: Sequence[str] = ()) -> None:
        self.commands = list(commands)
        self.requests: list[dict[str, str]] = []
        self.replies: list[str] = []
        self.finished = asyncio.Event()
        self.server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        header: dict[str, str] = {}
        while (line := (await reader.readline()).decode()).strip():
            key, _, value = line.partition(":")
            header[key.strip()] = value.strip()
        self.requests.append(header)
        for command in self.commands:
            writer.write(f"{command}\n".encode())
            await writer.drain()
            self.replies.append((await reader.readline()).decode().strip())
        writer.close()
        await writer.wait_closed()
        self.finished.set()


@pytest.fixture
async def agi() -> AsyncIterator[FakeAgi]:
    fake = FakeAgi()
    fake.server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    yield fake
    fake.server.close()
    await fake.server.wait_closed()


def named(event: Event, name: str, channel_prefix: str = "") -> bool:
    return bool(event.get("Event") == name and str(event.get("Channel", "")).startswith(channel_prefix))


async def test_an_instance_starts_on_free_ports_and_ami_logs_in(agi: FakeAgi, tmp_path: Path) -> None:
    async with running_pbx(test_plan(agi_port=agi.port), tmp_path) as rig:
        assert rig.instance.pid is not None
        assert not udp_port_free(rig.plan.ports.sip), "Asterisk holds its SIP port"
        async with ami_session(rig.plan) as ami:
            settings = await ami.action(Action="CoreSettings")
            assert str(settings.get("AsteriskVersion", "")).startswith("22.")
        assert "hub-inbound" in await rig.instance.cli("dialplan show hub-inbound")
    assert rig.instance.pid is None and not rig.instance.directory.exists()


async def test_a_taken_sip_port_fails_the_start_and_leaves_nothing_running(agi: FakeAgi, tmp_path: Path) -> None:
    await asyncio.to_thread(setup)
    plan = test_plan(agi_port=agi.port)
    instance = AsteriskInstance(ASTERISK_ROOT, plan)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
            taken.bind(("127.0.0.1", plan.ports.sip))
            with pytest.raises(PbxError, match="no SIP transport"):  # Asterisk itself would boot without SIP
                await instance.start()
        assert instance.pid is None
        assert not await asyncio.to_thread(_processes_with, f"/srv/hub/{plan.name}/"), "the failed one was stopped"
    finally:
        await instance.stop()
        shutil.rmtree(instance.directory, ignore_errors=True)


def _processes_with(text: str) -> list[Path]:
    """The /proc/PID of every process whose command line contains ``text``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                found.append(cmdline.parent)
        except OSError:  # the process ended meanwhile
            pass
    return found


async def test_two_instances_run_at_once_without_colliding(agi: FakeAgi, tmp_path: Path) -> None:
    first_plan, second_plan = test_plan(agi_port=agi.port), test_plan(agi_port=agi.port)
    async with running_pbx(first_plan, tmp_path / "a") as first:
        async with running_pbx(second_plan, tmp_path / "b") as second:
            assert first.instance.pid != second.instance.pid
            async with ami_session(first.plan) as ami_a, ami_session(second.plan) as ami_b:
                a = await ami_a.action(Action="Command", Command="core show settings")
                b = await ami_b.action(Action="Command", Command="core show settings")
            assert f"/srv/hub/{first_plan.name}/run" in "".join(a.get("Output", []))
            assert f"/srv/hub/{second_plan.name}/run" in "".join(b.get("Output", []))
        # the second one stopped: the first still answers on its socket and its AMI
        assert "uptime" in (await first.instance.cli("core show uptime")).lower()
        async with ami_session(first.plan):
            pass


async def test_apply_reloads_the_agents_endpoints(agi: FakeAgi, tmp_path: Path) -> None:
    async with running_pbx(test_plan(agi_port=agi.port), tmp_path) as rig:
        assert "agent-dora" not in await rig.instance.cli("pjsip show endpoints")
        with_dora = dataclasses.replace(rig.plan, agents=(AgentPhone("agent-dora", password="dora-phone-pass"),))
        assert await rig.instance.apply(with_dora) == ["module reload res_pjsip.so"]
        assert "agent-dora" in await rig.instance.cli("pjsip show endpoints")
        assert "agent-dora-auth" in await rig.instance.cli("pjsip show auths")
        assert await rig.instance.apply(with_dora) == [], "nothing changed, nothing reloaded"
        await rig.instance.apply(dataclasses.replace(with_dora, agents=()))
        assert "agent-dora" not in await rig.instance.cli("pjsip show endpoints")


async def test_a_caller_reaches_the_agi_with_dtmf_and_the_call_ends_cleanly(agi: FakeAgi, tmp_path: Path) -> None:
    agi.commands = ["WAIT FOR DIGIT 10000"] * 3
    async with running_pbx(test_plan(agi_port=agi.port), tmp_path) as rig, ami_session(rig.plan) as ami:
        caller = await rig.phones.caller("caller", "customer", "100", dtmf=[(800, "4"), (1300, "*"), (1800, "#")],
                                         hangup_ms=None)
        async with asyncio.timeout(30):
            await agi.finished.wait()
        request = agi.requests[0]
        assert request["agi_network_script"] == "inbound"
        assert request["agi_channel"].startswith("PJSIP/customer-")
        assert request["agi_context"] == "hub-inbound"
        assert agi.replies == [f"200 result={ord(d)}" for d in "4*#"], "the RFC 4733 digits reached the AGI"
        # the AGI closed without HUB_NEXT: the dialplan hangs up, the caller gets BYE
        hangup = await ami.wait_for(lambda e: named(e, "Hangup", "PJSIP/customer-"))
        assert hangup["Cause"] == "16"  # normal clearing
        assert await caller.wait(20) == 0, caller.messages()


async def test_a_ringing_agent_phone_that_never_answers_is_cancelled(agi: FakeAgi, tmp_path: Path) -> None:
    port = free_udp_ports()
    plan = test_plan(agi_port=agi.port, agents=(AgentPhone("agent-ring", contact=f"sip:agent-ring@127.0.0.1:{port}"),))
    async with running_pbx(plan, tmp_path) as rig, ami_session(rig.plan) as ami:
        phone = await (await rig.phones.agent("ringing", port, answer_ms=None)).listening()
        # panoramisk answers an asynchronous Originate with [Response, OriginateResponse], once it failed
        # or was answered; the OriginateResponse is not dispatched as an event.
        replies = await ami.action(Action="Originate", Channel="PJSIP/agent-ring", Context="hub-agent",
                                   Exten="bridge", Priority="1", Timeout="1500", Async="true",
                                   Variable="HUB_CALL=ring,HUB_CALLER=none")
        response = originate_response(replies)
        assert response["Response"] == "Failure" and response["Reason"] == "3", response  # 3: no answer
        assert await phone.wait(20) == 0, phone.messages()


def originate_response(replies: Any) -> Event:
    found = [r for r in (replies if isinstance(replies, list) else [replies]) if r.get("Event") == "OriginateResponse"]
    assert found, replies
    event: Event = found[0]
    return event


async def _caller_on_hold(rig: PbxRig, ami: AmiSession, agi: FakeAgi) -> tuple[Sipp, str]:
    """A caller whose AGI said HUB_NEXT=wait: music on hold in hub-wait. Its phone and channel name."""
    agi.commands = ["SET VARIABLE HUB_NEXT wait"]
    caller = await rig.phones.caller("caller", "customer", "100", hangup_ms=None)
    hold = await ami.wait_for(lambda e: named(e, "MusicOnHoldStart", "PJSIP/customer-"))
    assert agi.replies == ["200 result=1"]
    return caller, str(hold["Channel"])


@pytest.mark.parametrize("who_hangs_up", ["caller", "agent"])
async def test_an_originated_agent_call_bridges_the_waiting_caller_and_records_both_legs(
        agi: FakeAgi, tmp_path: Path, who_hangs_up: str) -> None:
    port = free_udp_ports()
    plan = test_plan(agi_port=agi.port, agents=(AgentPhone("agent-ann", contact=f"sip:agent-ann@127.0.0.1:{port}"),))
    call = uuid.uuid4().hex
    async with running_pbx(plan, tmp_path) as rig, ami_session(rig.plan) as ami:
        caller, caller_channel = await _caller_on_hold(rig, ami, agi)
        # the agent's phone sends BYE itself 2 s after the answer, or stays until the PBX hangs up
        agent = await (await rig.phones.agent("agent", port, answer_ms=300,
                                              hangup_ms=2000 if who_hangs_up == "agent" else None)).listening()
        replies = await ami.action(Action="Originate", Channel="PJSIP/agent-ann", Context="hub-agent",
                                   Exten="bridge", Priority="1", Timeout="10000", Async="true",
                                   Variable=[f"HUB_CALL={call}", f"HUB_REC={call}", f"HUB_CALLER={caller_channel}"])
        assert originate_response(replies)["Response"] == "Success"
        entered = [await ami.wait_for(lambda e: named(e, "BridgeEnter", caller_channel)),
                   await ami.wait_for(lambda e: named(e, "BridgeEnter", "PJSIP/agent-ann-"))]
        assert entered[0]["BridgeUniqueid"] == entered[1]["BridgeUniqueid"]
        recordings = rig.instance.recordings_dir_host
        # about 1.5 s of talk on both legs (16-bit, 8 kHz)
        await wait_until(lambda: _size(recordings / f"{call}-caller.wav") > 24_000, what="the caller's audio")
        await wait_until(lambda: _size(recordings / f"{call}-agent.wav") > 24_000, what="the agent's audio")
        if who_hangs_up == "caller":
            await ami.action(Action="Hangup", Channel=caller_channel)
        agent_gone = await ami.wait_for(lambda e: named(e, "Hangup", "PJSIP/agent-ann-"))
        assert agent_gone["Cause"] == "16"
        assert await agent.wait(20) == 0, agent.messages()
        if who_hangs_up == "agent":
            # Bridge() without x/F sends the caller back to the dialplan after the agent hangs up (here: on
            # hold again); the test ends the call
            await ami.action(Action="Hangup", Channel=caller_channel)
        await ami.wait_for(lambda e: named(e, "Hangup", caller_channel))
        assert await caller.wait(20) == 0, caller.messages()
        for leg in ("", "-agent", "-caller"):
            await wait_until(functools.partial(wav_complete, recordings / f"{call}{leg}.wav"), what=f"{call}{leg}.wav")
        agent_leg, caller_leg = read_wav(recordings / f"{call}-agent.wav"), read_wav(recordings / f"{call}-caller.wav")
        mixed = read_wav(recordings / f"{call}.wav")
    assert rms(agent_leg) > 1000 and rms(caller_leg) > 1000 and rms(mixed) > 1000, "both legs carry audio"
    # each leg holds its own party: the agent's phone sends 1 kHz, the caller 440 Hz
    assert tone_level(agent_leg, 1000) > 5 * tone_level(agent_leg, 440)
    assert tone_level(caller_leg, 440) > 5 * tone_level(caller_leg, 1000)


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0

