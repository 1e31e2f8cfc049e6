"""The speech recognition worker: a separate process holding the Vosk models (``python -m
voice.stt_worker``), so recognition never runs on the hub's event loop or holds its GIL.

It reads one JSON line of configuration on stdin (``{"models": {"ko": "<model dir>"}}``), loads
every model, answers ``{"ready": [...languages]}`` and then serves many streams at once over
stdin/stdout. Requests are frames ``op (1 byte) | stream (uint32) | length (uint32) | payload``:

- ``O`` open: payload JSON ``{"language", "rate", "grammar": [phrases] | null}``
- ``A`` audio: signed 16-bit little-endian mono at the stream's rate, fed as it arrives
- ``E`` end: the turn ended; answer ``{"stream", "text", "cpu_ms"}`` and forget the stream
- ``C`` cancel: forget the stream, no answer

Answers are JSON lines on stdout. A stream that fails answers ``{"stream", "error"}``; the worker
goes on. Nothing the caller says is logged.
"""

from __future__ import annotations

import json
import struct
import sys
import time
from typing import IO, Any

HEADER = struct.Struct(">BII")
MAX_PAYLOAD = 1 << 20


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    from vosk import KaldiRecognizer, Model, SetLogLevel  # type: ignore[import-untyped]

    SetLogLevel(-1)
    config = json.loads(requests.readline())
    models = {language: Model(str(path)) for language, path in dict(config.get("models") or {}).items()}
    _answer(answers, {"ready": sorted(models)})
    streams: dict[int, Any] = {}
    cpu: dict[int, float] = {}
    while True:
        head = requests.read(HEADER.size)
        if len(head) < HEADER.size:
            return  # the hub closed our stdin: it stops or restarts us
        op, stream, length = HEADER.unpack(head)
        if length > MAX_PAYLOAD:
            return
        payload = requests.read(length) if length else b""
        started = time.process_time()
        try:
            if op == ord("O"):
                request = json.loads(payload)
                model = models[request["language"]]
                grammar = request.get("grammar")
                recogniser = (KaldiRecognizer(model, float(request["rate"]), json.dumps(grammar, ensure_ascii=False))
                              if grammar else KaldiRecognizer(model, float(request["rate"])))
                streams[stream], cpu[stream] = recogniser, 0.0
            elif op == ord("A") and stream in streams:
                streams[stream].AcceptWaveform(payload)
            elif op == ord("E") and stream in streams:
                text = json.loads(streams.pop(stream).FinalResult()).get("text", "")
                spent = cpu.pop(stream, 0.0) + time.process_time() - started
                _answer(answers, {"stream": stream, "text": text, "cpu_ms": round(spent * 1000, 1)})
                continue
            elif op == ord("C"):
                streams.pop(stream, None)
                cpu.pop(stream, None)
                continue
        except Exception as err:  # one bad stream never stops the others
            streams.pop(stream, None)
            cpu.pop(stream, None)
            _answer(answers, {"stream": stream, "error": type(err).__name__})
            continue
        if stream in cpu:
            cpu[stream] += time.process_time() - started


def _answer(answers: IO[bytes], body: dict[str, Any]) -> None:
    answers.write(json.dumps(body, ensure_ascii=False).encode() + b"\n")
    answers.flush()


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
