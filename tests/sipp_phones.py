"""Phones for PBX tests: sipp (Debian ``sip-tester``) as agents' phones (UAS) and as callers (UAC).

Scenarios are the templates in ``tests/pbx/sipp/`` filled in with ``str.format``. Audio is RTP
from a pcap (``play_pcap_audio``): a sine tone written here (PCMA, 20 ms packets), so that each
leg of a recording can be told apart by its frequency. A caller's DTMF is RFC 4733/2833
(telephone-event, payload 101) written into the same pcap, in the same RTP stream, at the digits'
times: sipp plays one pcap per call at a time (a second ``play_pcap_audio`` stops the first, so
its own ``dtmf_2833_<digit>.pcap`` files would cut the audio off). Every sipp runs as an asyncio
subprocess on free loopback ports; ``SippPhones.close`` kills whatever still runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hub.embedded import _die_with_parent, free_udp_ports, udp_port_free

SCENARIOS = Path(__file__).resolve().parent / "pbx" / "sipp"
DTMF_EVENTS = {**{d: int(d) for d in "0123456789"}, "*": 10, "#": 11}  # RFC 4733 event codes
DTMF_UPDATES = 5  # 100 ms per digit
RATE = 8000
PACKET_MS = 20
PACKET_SAMPLES = RATE * PACKET_MS // 1000
_TONES: dict[tuple[float, float], Path] = {}  # (frequency, seconds) -> pcap, shared by the tests of a run


def alaw(sample: int) -> int:
    """One 16-bit linear sample to G.711 A-law (ITU-T G.711, as in Sun's g711.c)."""
    value = sample >> 3
    mask = 0xD5
    if value < 0:
        mask, value = 0x55, -value - 1
    for segment, end in enumerate((0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)):
        if value <= end:
            low = (value >> 1) if segment < 2 else (value >> segment)
            return ((segment << 4) | (low & 0x0F)) ^ mask
    return 0x7F ^ mask


def tone_alaw(frequency: float, samples: int, amplitude: int = 8000) -> bytes:
    """``samples`` of a sine tone in A-law, one period computed and repeated."""
    period = RATE // math.gcd(int(frequency), RATE) if frequency == int(frequency) else RATE
    one = bytes(alaw(int(amplitude * math.sin(2 * math.pi * frequency * i / RATE))) for i in range(period))
    return (one * (samples // period + 1))[:samples]


def write_call_pcap(path: Path, frequency: float, seconds: float, dtmf: Sequence[tuple[int, str]] = ()) -> Path:
    """RTP of one source as a pcap: a PCMA tone (payload type 8, 20 ms packets) with RFC 4733
    telephone-events (payload type 101) replacing it at the given times (ms from the start).
    sipp replaces the addresses and ports when it plays the file."""
    slots = int(seconds * 1000) // PACKET_MS
    return write_rtp_pcap(path, tone_alaw(frequency, slots * PACKET_SAMPLES), dtmf)


def write_rtp_pcap(path: Path, audio: bytes, dtmf: Sequence[tuple[int, str]] = ()) -> Path:
    """``audio`` (PCMA) as RTP in a pcap, 20 ms per packet, with RFC 4733 telephone-events
    (payload type 101) replacing it at the given times (ms from the start)."""
    slots = len(audio) // PACKET_SAMPLES
    digits = {when // PACKET_MS: DTMF_EVENTS[digit] for when, digit in dtmf}
    packets: list[tuple[int, bool, int, bytes]] = []  # payload type, marker, timestamp, payload: one per slot
    while len(packets) < slots:
        slot = len(packets)
        if slot in digits:
            # 100 ms of updates, then the end packet three times (RFC 4733 2.5.1.4), one timestamp
            for k in range(DTMF_UPDATES + 3):
                duration = min(k + 1, DTMF_UPDATES) * PACKET_SAMPLES
                flags = (0x80 if k >= DTMF_UPDATES else 0) | 10  # E bit, volume -10 dBm0
                packets.append((101, k == 0, slot * PACKET_SAMPLES, struct.pack(">BBH", digits[slot], flags, duration)))
            continue
        packets.append((8, slot == 0, slot * PACKET_SAMPLES,
                        bytes(audio[slot * PACKET_SAMPLES:(slot + 1) * PACKET_SAMPLES])))
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]  # pcap header, Ethernet
    for n, (payload_type, marker, timestamp, payload) in enumerate(packets[:slots]):
        rtp = struct.pack(">BBHII", 0x80, payload_type | (0x80 if marker else 0), n & 0xFFFF, timestamp,
                          0x4E47) + payload
        udp = struct.pack(">HHHH", 40000, 40002, 8 + len(rtp), 0) + rtp
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n & 0xFFFF, 0, 64, 17, 0,
                         bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])) + udp
        frame = b"\0" * 12 + b"\x08\x00" + ip
        micros = n * PACKET_MS * 1000
        out.append(struct.pack("<IIII", micros // 1_000_000, micros % 1_000_000, len(frame), len(frame)) + frame)
    path.write_bytes(b"".join(out))
    return path


@dataclass
class Sipp:
    """One running sipp; ``returncode`` is 0 when its one call went through the whole scenario."""

    name: str
    process: asyncio.subprocess.Process
    directory: Path
    port: int

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    async def listening(self, timeout: float = 10.0) -> Sipp:
        """Return once sipp holds its SIP port (a UAS must, before the PBX calls it)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while udp_port_free(self.port):
            if self.process.returncode is not None:
                raise RuntimeError(f"sipp {self.name} exited with {self.process.returncode}: {self.output()}")
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"sipp {self.name} did not bind 127.0.0.1:{self.port}")
            await asyncio.sleep(0.02)
        return self

    def output(self) -> str:
        path = self.directory / "sipp.out"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    async def wait(self, timeout: float = 60.0) -> int:
        return await asyncio.wait_for(self.process.wait(), timeout)

    async def kill(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()

    def stats(self) -> dict[str, str]:
        """The last row of sipp's statistics file (``SuccessfulCall(C)``, ``FailedCall(C)``, ...)."""
        files = sorted(self.directory.glob("*_.csv")) or sorted(self.directory.glob("*.csv"))
        if not files:
            return {}
        rows = [line.split(";") for line in files[-1].read_text().splitlines() if line.strip()]
        return dict(zip(rows[0], rows[-1], strict=False)) if len(rows) > 1 else {}

    def messages(self) -> str:
        """The SIP messages sipp sent and received (for failure messages)."""
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.directory.glob("*_messages.log")))


@dataclass
class SippPhones:
    """Starts sipp phones against one PBX (SIP on 127.0.0.1:``pbx_port``); ``close`` kills them all."""

    pbx_port: int
    work: Path
    running: list[Sipp] = field(default_factory=list)

    async def tone(self, frequency: float, seconds: float = 60.0) -> Path:
        """A tone pcap without DTMF, written once per run."""
        key = (frequency, seconds)
        if key not in _TONES or not _TONES[key].exists():
            path = self.work / f"tone-{frequency:g}-{seconds:g}.pcap"
            _TONES[key] = await asyncio.to_thread(write_call_pcap, path, frequency, seconds)
        return _TONES[key]

    async def agent(self, name: str, port: int, *, answer_ms: int | None = 300, hangup_ms: int | None = None,
                    audio: Path | None = None) -> Sipp:
        """An agent's phone listening on ``port``: answers after ``answer_ms`` (None: rings until
        CANCEL) and sends ``audio`` (default a 1 kHz tone) until BYE, or hangs up after ``hangup_ms``."""
        audio = audio or await self.tone(1000)
        if answer_ms is None:
            template, values = "agent_rings.xml", {}
        elif hangup_ms is None:
            template, values = "agent_answers.xml", {"answer_ms": answer_ms, "audio": audio}
        else:
            template, values = "agent_hangs_up.xml", {"answer_ms": answer_ms, "audio": audio, "hangup_ms": hangup_ms}
        scenario = (SCENARIOS / template).read_text().format(**values)
        return await self._start(name, scenario, port, [])

    async def caller(self, name: str, user: str, number: str = "100", *, dtmf: Sequence[tuple[int, str]] = (),
                     hangup_ms: int | None = 10_000, tone_hz: float = 440.0, seconds: float = 120.0,
                     audio: Path | None = None) -> Sipp:
        """A caller with From user ``user`` dialing ``number``; once answered it sends a ``tone_hz``
        tone for ``seconds`` with each DTMF digit (0-9, * or #) at its time in ms after the answer,
        all in one RTP stream, then hangs up at ``hangup_ms`` or, with None, waits for the PBX's BYE.
        ``audio``: a pcap of its own to send instead (tests/speech_audio.py: speech)."""
        if audio is None:
            audio = await asyncio.to_thread(write_call_pcap, self.work / f"{name}-call.pcap", tone_hz, seconds, dtmf)
        if hangup_ms is None:
            ending = (SCENARIOS / "caller_waits.xml").read_text().format(user=user)
        else:
            ending = (SCENARIOS / "caller_hangs_up.xml").read_text().format(user=user, rest_ms=hangup_ms)
        scenario = (SCENARIOS / "caller.xml").read_text().format(user=user, number=number, audio=audio,
                                                                 ending=ending)
        return await self._start(name, scenario, free_udp_ports(), [f"127.0.0.1:{self.pbx_port}"])

    async def _start(self, name: str, scenario: str, port: int, target: list[str]) -> Sipp:
        directory = self.work / name
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "scenario.xml").write_text(scenario)
        media = free_udp_ports(4)  # sipp takes the media port and the one two above (video)
        args = [*target, "-sf", "scenario.xml", "-i", "127.0.0.1", "-p", str(port), "-mi", "127.0.0.1",
                "-mp", str(media), "-cp", str(free_udp_ports()), "-m", "1", "-nostdin", "-timeout", "120s",
                "-trace_stat", "-fd", "1", "-trace_msg", "-trace_err"]
        with (directory / "sipp.out").open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                "sipp", *args, cwd=directory, stdin=asyncio.subprocess.DEVNULL, stdout=out,
                stderr=asyncio.subprocess.STDOUT, preexec_fn=_die_with_parent)
        sipp = Sipp(name, process, directory, port)
        self.running.append(sipp)
        return sipp

    async def close(self) -> None:
        for sipp in self.running:
            await sipp.kill()
