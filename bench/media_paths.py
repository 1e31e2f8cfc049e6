"""The voice bot's media path, measured: Asterisk's AudioSocket against chan_websocket (ADR 0038).

Run:  .venv/bin/python bench/media_paths.py [--rounds 5] [--out FILE]

A private Asterisk (tests/pbx_rig.py). For each path and round, AMI originates ``Local/<path>@bench``:
its ``;2`` leg runs the path (``AudioSocket()`` to this process's TCP server, or ``Dial(WebSocket/...)``
to this process's WebSocket server, chan_websocket loaded and configured on this instance only), its
``;1`` leg answers and records what it receives (MixMonitor ``r()``). This process plays a 5 s tone:

* **AudioSocket**: paced by us, one 20 ms frame per 20 ms (what the voice bot does), two frames ahead;
* **chan_websocket**: the whole 5 s written at once (Asterisk re-times it and keeps the queue).

At 1.0 s after the first frame the playback is stopped (a barge-in): AudioSocket stops writing,
chan_websocket gets ``FLUSH_MEDIA``. Measured per round: the tone's duration on the recording beyond
the 1.0 s (what the caller heard after the stop: the barge-in floor), ``first_ms`` from the AMI
Originate to our first write (the channel's set-up and the connection), and this process's CPU time
per second of audio it sent (``cpu_ms_per_audio_s``: pacing 50 writes a second against writing a
prompt at once). Results on stdout
and ``bench/results/media_paths.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import struct
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from runinfo import git_state, machine, pct  # noqa: E402

from hub.embedded import free_port  # noqa: E402
from tests.pbx_rig import ami_session, read_wav, running_pbx, test_plan, wait_until, wav_complete  # noqa: E402

RATE, FRAME_MS = 8000, 20
FRAME = RATE * 2 * FRAME_MS // 1000
STOP_AFTER_S = 1.0
TONE_S = 5.0


def tone(seconds: float, hz: float = 440.0, amplitude: int = 8000) -> bytes:
    n = int(seconds * RATE)
    return b"".join(struct.pack("<h", int(amplitude * math.sin(2 * math.pi * hz * i / RATE))) for i in range(n))


def tone_ms(samples: Any, threshold: float = 1000.0) -> float:
    """How long the recording carries the tone (20 ms frames above ``threshold`` RMS)."""
    frames = len(samples) // 160
    loud = sum(1 for f in range(frames)
               if math.sqrt(sum(s * s for s in samples[f * 160:(f + 1) * 160]) / 160) > threshold)
    return loud * FRAME_MS


class Rounds:
    def __init__(self) -> None:
        self.cpu_ms: dict[str, float] = {}
        self.sent_s: dict[str, float] = {}
        self.first_at: dict[str, float] = {}
        self.done: dict[str, asyncio.Event] = {}
        self.pcm = tone(TONE_S)

    async def audiosocket(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _, length = struct.unpack(">BH", await reader.readexactly(3))
        key = str(uuid.UUID(bytes=await reader.readexactly(length)))
        loop = asyncio.get_running_loop()
        cpu0, started = time.process_time(), loop.time()
        self.first_at[key] = time.time()
        frames = [self.pcm[i:i + FRAME] for i in range(0, len(self.pcm), FRAME)]
        sent = 0
        for n, frame in enumerate(frames):
            if loop.time() - started >= STOP_AFTER_S:
                break  # barge-in: nothing more is written
            sent += 1
            wait = started + (n - 2) * FRAME_MS / 1000 - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(struct.pack(">BH", 0x10, len(frame)) + frame)
            await writer.drain()
        self.cpu_ms[key] = (time.process_time() - cpu0) * 1000
        self.sent_s[key] = sent * FRAME_MS / 1000
        await asyncio.sleep(TONE_S)
        writer.close()
        self.done[key].set()

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(protocols=("media",))
        await ws.prepare(request)
        key = request.query.get("k", "")
        async for message in ws:
            if message.type == WSMsgType.TEXT and message.data.startswith("MEDIA_START"):
                break
        cpu0 = time.process_time()
        await ws.send_str("ANSWER")
        self.first_at[key] = time.time()
        for i in range(0, len(self.pcm), FRAME):
            await ws.send_bytes(self.pcm[i:i + FRAME])
        self.cpu_ms[key] = (time.process_time() - cpu0) * 1000
        self.sent_s[key] = TONE_S
        await asyncio.sleep(STOP_AFTER_S)
        await ws.send_str("FLUSH_MEDIA")
        await asyncio.sleep(TONE_S)
        await ws.send_str("HANGUP")
        await ws.close()
        self.done[key].set()
        return ws


async def run(opts: argparse.Namespace) -> dict[str, Any]:
    work = Path(opts.work)
    rounds = Rounds()
    as_port, ws_port = free_port(), free_port()
    as_server = await asyncio.start_server(rounds.audiosocket, "127.0.0.1", as_port)
    app = web.Application()
    app.router.add_get("/media", rounds.websocket)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", ws_port).start()
    results: dict[str, list[dict[str, float]]] = {"audiosocket": [], "chan_websocket": []}
    async with running_pbx(test_plan(agi_port=free_port()), work / "pbx") as pbx, ami_session(pbx.plan) as ami:
        etc = pbx.instance.directory / "etc"
        rec = pbx.plan.recordings()
        (etc / "websocket_client.conf").write_text(
            f"[hubws]\ntype = websocket_client\nconnection_type = per_call_config\n"
            f"uri = ws://127.0.0.1:{ws_port}/media\nprotocols = media\nconnection_timeout = 1000\n"
            "reconnect_attempts = 2\ntls_enabled = no\n")
        for command in ("module reload res_websocket_client.so", "module load chan_websocket.so",
                        "dialplan add extension as,1,Answer() into bench",
                        f"dialplan add extension as,2,AudioSocket(${{K}},127.0.0.1:{as_port}) into bench",
                        "dialplan add extension ws,1,Answer() into bench",
                        "dialplan add extension ws,2,Dial(WebSocket/hubws/c(slin)v(k=${K})) into bench",
                        "dialplan add extension rec,1,Answer() into bench",
                        f"dialplan add extension rec,2,MixMonitor({rec}/mp-${{K}}.wav,r({rec}/mp-${{K}}-rx.wav))"
                        " into bench",
                        f"dialplan add extension rec,3,Wait({TONE_S + 3}) into bench",
                        "dialplan add extension rec,4,Hangup() into bench"):
            await pbx.instance.cli(command)
        for n in range(opts.rounds):
            for path, exten in (("audiosocket", "as"), ("chan_websocket", "ws")):
                key = str(uuid.uuid4())
                rounds.done[key] = asyncio.Event()
                sent = time.time()
                await ami.action(Action="Originate", Channel=f"Local/{exten}@bench", Context="bench", Exten="rec",
                                 Priority="1", Variable=f"__K={key}", Async="true")
                try:
                    async with asyncio.timeout(30):
                        await rounds.done[key].wait()
                except TimeoutError:
                    print(f"  {path} round {n}: no media connection", flush=True)
                    continue
                wav = pbx.instance.recordings_dir_host / f"mp-{key}-rx.wav"
                await wait_until(lambda wav=wav: wav_complete(wav), timeout=30, what="recording")
                heard = tone_ms(read_wav(wav))
                results[path].append({"after_stop_ms": heard - STOP_AFTER_S * 1000, "heard_ms": heard,
                                      "first_ms": (rounds.first_at[key] - sent) * 1000,
                                      "cpu_ms_per_audio_s": rounds.cpu_ms.get(key, 0.0) / rounds.sent_s.get(key, 1.0)})
                print(f"  {path} round {n}: {results[path][-1]}", flush=True)
    as_server.close()
    await runner.cleanup()
    fields = ("after_stop_ms", "first_ms", "cpu_ms_per_audio_s")
    summary = {path: {f: {"p50": pct([r[f] for r in rows], 50), "max": max((r[f] for r in rows), default=None)}
                      for f in fields} for path, rows in results.items()}
    return {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "git": git_state(), "machine": machine(),
            "rounds": results, "summary": summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--work", default=str(ROOT / "bench" / "results" / "logs" / "media-paths"))
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "media_paths.json"))
    opts = parser.parse_args()
    result = asyncio.run(run(opts))
    Path(opts.out).parent.mkdir(parents=True, exist_ok=True)
    Path(opts.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["summary"], indent=2))


if __name__ == "__main__":
    main()
