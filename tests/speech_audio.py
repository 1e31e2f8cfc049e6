"""Speech for tests: espeak-ng phrases as 8 kHz PCM, and a caller's RTP pcap for sipp with the
phrases at given times (silence between), so a sipp caller talks to the PBX.

``speech_pcm`` uses the hub's own prompt maker (voice/tts.py: espeak-ng then sox), cached in the
test's directory. ``write_speech_pcap`` lays the phrases out on a timeline of 20 ms PCMA packets,
as ``tests.sipp_phones.write_call_pcap`` does for tones (sipp plays one pcap per call).
"""

from __future__ import annotations

import array
import sys
from collections.abc import Sequence
from pathlib import Path

from tests.sipp_phones import PACKET_MS, PACKET_SAMPLES, RATE, alaw, write_rtp_pcap
from voice.tts import PromptCache, Voice

_ALAW = bytes(alaw(s - 32768) for s in range(65536))  # every 16-bit sample, offset by 32768
ALAW_SILENCE = _ALAW[32768:32769]  # one byte: the code of 0


async def speech_pcm(text: str, voice: str, cache_dir: Path, *, speed: int = 150) -> bytes:
    """``text`` spoken by espeak-ng's ``voice``: signed 16-bit little-endian mono at 8 kHz."""
    return await PromptCache(cache_dir, rate=RATE).speech(text, Voice(name=voice, speed=speed))


def pcm_to_alaw(pcm: bytes) -> bytes:
    samples = array.array("h")
    samples.frombytes(pcm[: len(pcm) - len(pcm) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    return bytes(_ALAW[s + 32768] for s in samples)


def duration_ms(pcm: bytes) -> int:
    return len(pcm) // 2 * 1000 // RATE


def write_speech_pcap(path: Path, parts: Sequence[tuple[int, bytes]], seconds: float,
                      dtmf: Sequence[tuple[int, str]] = ()) -> Path:
    """An RTP pcap (PCMA, payload type 8, 20 ms packets) of ``seconds``: each ``(at_ms, pcm)`` part
    starts at ``at_ms``; silence everywhere else; each ``(at_ms, digit)`` of ``dtmf`` is an RFC 4733
    event in the same stream (``tests.sipp_phones.write_rtp_pcap``). sipp rewrites the addresses."""
    slots = int(seconds * 1000) // PACKET_MS
    audio = bytearray(ALAW_SILENCE * (slots * PACKET_SAMPLES))
    for at_ms, pcm in parts:
        encoded = pcm_to_alaw(pcm)
        start = at_ms * RATE // 1000
        audio[start:start + len(encoded)] = encoded[: max(0, len(audio) - start)]
    return write_rtp_pcap(path, bytes(audio), dtmf)
