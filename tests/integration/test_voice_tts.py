"""Prompts spoken by the real espeak-ng and sox (voice/tts.py), cached on disk."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from voice.endpointing import level
from voice.tts import PromptCache, SpeechFailed, Voice

KOREAN = Voice(name="ko", speed=160)


def files(directory: Path) -> list[Path]:
    return sorted(directory.iterdir())


async def test_a_prompt_is_synthesised_once_and_then_read_from_the_cache(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path, rate=8000)
    first, same = await asyncio.gather(cache.speech("요금을 확인해 드릴게요", KOREAN),
                                       cache.speech("요금을 확인해 드릴게요", KOREAN))
    assert first == same and len(first) > 8000  # more than half a second of 16-bit 8 kHz speech
    assert level(first) > 500
    path = cache.path_of("요금을 확인해 드릴게요", KOREAN)
    assert path.read_bytes() == first and files(tmp_path) == [path]
    path.write_bytes(b"\x00\x01" * 10)  # the cache is what is read: no second synthesis
    assert await cache.speech("요금을 확인해 드릴게요", KOREAN) == b"\x00\x01" * 10
    other = await cache.speech("요금을 확인해 드릴게요", Voice(name="en-us"))
    assert other != first and len(files(tmp_path)) == 2


async def test_text_that_looks_like_an_option_is_spoken_as_text(tmp_path: Path) -> None:
    assert len(await PromptCache(tmp_path).speech("--help", Voice(name="en-us"))) > 1000


async def test_a_voice_that_is_no_voice_name_fails_clearly_and_caches_nothing(tmp_path: Path) -> None:
    for name in ("-v", "ko; rm", ""):
        with pytest.raises(SpeechFailed):
            await PromptCache(tmp_path).speech("hello", Voice(name=name))
    assert files(tmp_path) == []
