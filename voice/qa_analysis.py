"""What the quality worker's processes do with one recording: read both legs, find the voice
activity, transcribe, and hand back a :class:`hub.domain.quality.CallAnalysis`.

Runs in a process of the worker's pool (voice/qa_worker.py), never in the hub's event loop.
:func:`start_process` is the pool's initializer: it loads the configured models once per process
(about 530 MB each), so no recording pays for a load.
"""

from __future__ import annotations

import contextlib
import wave
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hub.domain.quality import CallAnalysis, LegAnalysis, Speaker
from voice.activity import ActivitySettings, voice_activity
from voice.transcriber import ModelMissing, ModelShelf, transcribe

# One shelf per worker process, made by the pool's initializer: the reason a worker process exists
# is to keep its models loaded between jobs, and a pool's function cannot carry state otherwise.
_shelf: ModelShelf | None = None


class RecordingNotReady(Exception):
    """A leg's file is missing or still being written (its RIFF header does not match its size)."""


class BadRecording(Exception):
    """A leg's file is not a 16-bit mono wav: the job fails with this message."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalysisRequest:
    recording: str
    legs: tuple[tuple[Speaker, Path], ...]
    model: str  # as configured: a directory or ``package:<name>``
    grammar: tuple[str, ...] = ()
    activity: ActivitySettings = field(default_factory=ActivitySettings)


def start_process(models: Sequence[str]) -> None:
    """The pool's initializer: this process's models, loaded now. A missing one is left to the
    first job, which reports it (an exception here would break the whole pool)."""
    global _shelf
    _shelf = ModelShelf()
    for configured in models:
        with contextlib.suppress(ModelMissing):
            _shelf.model(configured)


def analyse(request: AnalysisRequest) -> CallAnalysis:
    """Both legs of one recording. Raises RecordingNotReady or BadRecording (messages name the leg)."""
    shelf = _shelf or ModelShelf()
    read = [(speaker, *read_leg(speaker, path)) for speaker, path in request.legs]
    model = shelf.model(request.model)
    legs = tuple(LegAnalysis(speaker=speaker, words=transcribe(model, pcm, rate, request.grammar),
                             activity=voice_activity(_samples(pcm), rate, request.activity))
                 for speaker, pcm, rate in read)
    duration_ms = max((len(pcm) // 2 * 1000 // rate for _, pcm, rate in read), default=0)
    return CallAnalysis(duration_ms=duration_ms, legs=legs)


def read_leg(speaker: Speaker, path: Path) -> tuple[bytes, int]:
    """(PCM, rate) of one leg's wav."""
    if not complete(path):
        raise RecordingNotReady(f"{speaker.value} leg: missing or still being written")
    try:
        with wave.open(str(path)) as wav:
            if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
                raise BadRecording(f"{speaker.value} leg: not 16-bit mono (width {wav.getsampwidth()}, "
                                   f"{wav.getnchannels()} channels)")
            return wav.readframes(wav.getnframes()), wav.getframerate()
    except (wave.Error, EOFError) as err:
        raise BadRecording(f"{speaker.value} leg: not a wav file ({err})") from None


def complete(path: Path) -> bool:
    """True once the writer closed the file: the RIFF size field matches the file's size."""
    try:
        with path.open("rb") as file:
            header = file.read(12)
        size = path.stat().st_size
    except OSError:
        return False
    if len(header) < 12 or header[:4] != b"RIFF":
        return size > 0 and len(header) == 12  # not a RIFF file at all: complete, and read_leg says so
    return int.from_bytes(header[4:8], "little") == size - 8


def _samples(pcm: bytes) -> memoryview:
    return memoryview(pcm[: len(pcm) - len(pcm) % 2]).cast("h")
