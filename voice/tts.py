"""Prompts spoken with espeak-ng, cached on disk by a hash of (text, voice, speed, rate).

espeak-ng writes a 22.05 kHz wav; sox turns it into what the media path carries (signed 16-bit
little-endian mono at ``rate``). Both run as asyncio subprocesses (never on the event loop's
thread); the text goes in on stdin, never on a command line (a text starting with ``-`` is text).
A cached prompt costs one file read; a new one is written under a temporary name and renamed, so
two calls never see half a file.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

MAX_PROMPT_CHARS = 600  # a spoken reply longer than this is cut (about 40 s of speech)
VOICE_NAME = re.compile(r"^[a-z][a-z0-9+-]{0,40}$")  # espeak-ng voices: ko, en-us, cmn-latn-pinyin, en+f3


class SpeechFailed(Exception):
    """espeak-ng or sox failed or is missing."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Voice:
    """An espeak-ng voice (``ko``, ``en-us``, ``cmn-latn-pinyin`` ...) and its speed (words per minute)."""

    name: str
    speed: int = 160


def prompt_key(text: str, voice: Voice, rate: int) -> str:
    """The cache file's name: the same text in the same voice is synthesised once."""
    digest = hashlib.sha256(f"{voice.name}\0{voice.speed}\0{rate}\0{text}".encode()).hexdigest()
    return f"{digest[:32]}.s16"


class PromptCache:
    """``await cache.speech(text, voice)`` -> PCM (s16le mono at ``rate``)."""

    def __init__(self, directory: Path, *, rate: int = 8000, timeout_s: float = 20.0) -> None:
        self._directory = directory
        self._rate = rate
        self._timeout_s = timeout_s
        self._pending: dict[str, asyncio.Future[bytes]] = {}

    @property
    def rate(self) -> int:
        return self._rate

    def path_of(self, text: str, voice: Voice) -> Path:
        return self._directory / prompt_key(text[:MAX_PROMPT_CHARS], voice, self._rate)

    async def speech(self, text: str, voice: Voice) -> bytes:
        if not VOICE_NAME.match(voice.name):
            raise SpeechFailed("not an espeak-ng voice name")
        text = text[:MAX_PROMPT_CHARS]
        path = self.path_of(text, voice)
        with contextlib.suppress(FileNotFoundError):
            return await asyncio.to_thread(path.read_bytes)
        key = path.name
        pending = self._pending.get(key)
        if pending is not None:  # the same prompt is being made for another call: share it
            return await asyncio.shield(pending)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            pcm = await self._synthesise(text, voice)
            await asyncio.to_thread(_write_atomically, path, pcm)
            future.set_result(pcm)
            return pcm
        except BaseException as err:
            future.set_exception(SpeechFailed(str(err)) if not isinstance(err, SpeechFailed) else err)
            future.exception()  # retrieved: no "never retrieved" warning when nobody else waited
            raise
        finally:
            self._pending.pop(key, None)

    async def _synthesise(self, text: str, voice: Voice) -> bytes:
        wav = await _run(["espeak-ng", "-v", voice.name, "-s", str(voice.speed), "--stdin", "--stdout"],
                         text.encode(), self._timeout_s)
        return await _run(["sox", "-q", "-t", "wav", "-", "-t", "raw", "-r", str(self._rate), "-c", "1", "-b", "16",
                           "-e", "signed-integer", "-L", "-"], wav, self._timeout_s)


async def _run(argv: list[str], data: bytes, timeout_s: float) -> bytes:
    try:
        process = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.PIPE,
                                                       stdout=asyncio.subprocess.PIPE,
                                                       stderr=asyncio.subprocess.PIPE)
    except OSError as err:
        raise SpeechFailed(f"{argv[0]} cannot run: {err.strerror}") from err
    try:
        async with asyncio.timeout(timeout_s):
            out, errors = await process.communicate(data)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise SpeechFailed(f"{argv[0]} took longer than {timeout_s} s") from None
    if process.returncode != 0 or not out:
        raise SpeechFailed(f"{argv[0]} exited {process.returncode}: {errors.decode(errors='replace')[:200]}")
    return out


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
