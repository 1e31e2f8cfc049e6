"""Streaming recognition for the voice bot: the hub's side of ``voice.stt_worker``.

``Recogniser`` owns one worker process (started by ``__aenter__``, stopped by ``__aexit__``, started
again on the next stream if it died). A call opens a ``RecognitionStream`` when the caller starts
speaking, feeds it every frame while they speak (the worker decodes as the audio arrives) and asks
for the text when the turn ends, so only the end of the decoding is left to wait for.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voice.stt_worker import HEADER

logger = logging.getLogger(__name__)


class RecognitionFailed(Exception):
    """The worker is gone, refused the stream, or answered too late."""


@dataclass(frozen=True, slots=True)
class Heard:
    text: str
    cpu_ms: float  # the worker's CPU time for the whole stream


class Recogniser:
    def __init__(self, models: Mapping[str, Path], *, start_timeout_s: float = 120.0,
                 answer_timeout_s: float = 10.0) -> None:
        self._models = {language: str(path) for language, path in models.items()}
        self._start_timeout_s = start_timeout_s
        self._answer_timeout_s = answer_timeout_s
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._waiting: dict[int, asyncio.Future[Heard]] = {}
        self._ids = itertools.count(1)
        self._starting = asyncio.Lock()
        self.languages: tuple[str, ...] = ()

    async def __aenter__(self) -> Recogniser:
        await self._ensure_started()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stop()

    async def open(self, language: str, rate: int, grammar: Sequence[str] | None) -> RecognitionStream:
        await self._ensure_started()
        if language not in self.languages:
            raise RecognitionFailed(f"no speech model for language {language!r}")
        stream = RecognitionStream(self, next(self._ids))
        self._waiting[stream.id] = asyncio.get_running_loop().create_future()
        body = json.dumps({"language": language, "rate": rate, "grammar": list(grammar) if grammar else None},
                          ensure_ascii=False).encode()
        self._send(b"O", stream.id, body)
        return stream

    # -- the worker process -----------------------------------------------------------------------
    async def _ensure_started(self) -> None:
        async with self._starting:
            if self._process is not None and self._process.returncode is None and self._alive():
                return
            await self._stop()
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "voice.stt_worker", stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, limit=1 << 20)
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(json.dumps({"models": self._models}).encode() + b"\n")
            try:
                async with asyncio.timeout(self._start_timeout_s):
                    ready = json.loads(await process.stdout.readline() or b"{}")
            except (TimeoutError, ValueError):
                ready = {}
            if "ready" not in ready:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
                raise RecognitionFailed("the speech worker did not start (its models could not be loaded)")
            self._process = process
            self.languages = tuple(ready["ready"])
            self._reader = asyncio.create_task(self._read(process), name="voice:stt:answers")
            logger.info("voice.stt.worker_up pid=%d languages=%s", process.pid, ",".join(self.languages))

    def _alive(self) -> bool:
        """The worker still answers: its answers' reader runs (its end of stdout comes before the
        process is reaped, so ``returncode`` alone says "running" for a while after a crash)."""
        return self._reader is not None and not self._reader.done()

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        try:
            while line := await process.stdout.readline():
                with contextlib.suppress(ValueError):
                    self._settle(json.loads(line))
        finally:
            for future in self._waiting.values():
                if not future.done():
                    future.set_exception(RecognitionFailed("the speech worker stopped"))
            self._waiting.clear()
            if self._process is process:
                logger.warning("voice.stt.worker_lost")

    def _settle(self, answer: Mapping[str, Any]) -> None:
        future = self._waiting.pop(int(answer.get("stream", 0)), None)
        if future is None or future.done():
            return
        if "error" in answer:
            future.set_exception(RecognitionFailed(f"the speech worker refused the stream: {answer['error']}"))
        else:
            future.set_result(Heard(str(answer.get("text", "")), float(answer.get("cpu_ms", 0.0))))

    def _send(self, op: bytes, stream: int, payload: bytes = b"") -> None:
        process = self._process
        if process is None or process.stdin is None or process.returncode is not None:
            raise RecognitionFailed("the speech worker is not running")
        process.stdin.write(HEADER.pack(op[0], stream, len(payload)) + payload)

    async def _finish(self, stream: RecognitionStream) -> Heard:
        future = self._waiting.get(stream.id)
        if future is None:
            raise RecognitionFailed("the stream is closed")
        if not future.done():
            self._send(b"E", stream.id)
        try:
            async with asyncio.timeout(self._answer_timeout_s):
                return await future
        except TimeoutError:
            self._waiting.pop(stream.id, None)
            raise RecognitionFailed("the speech worker answered too late") from None

    def _cancel(self, stream: RecognitionStream) -> None:
        future = self._waiting.pop(stream.id, None)
        if future is not None:
            future.cancel()
            with contextlib.suppress(RecognitionFailed):
                self._send(b"C", stream.id)

    async def _stop(self) -> None:
        """The worker holds nothing worth keeping: it is killed, not asked."""
        process, self._process = self._process, None
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await asyncio.shield(process.wait())
        if reader is not None:
            await asyncio.gather(reader, return_exceptions=True)


class RecognitionStream:
    """One turn's recognition: ``feed`` frames as they come, then ``finish`` (or ``cancel``)."""

    def __init__(self, recogniser: Recogniser, stream_id: int) -> None:
        self._recogniser = recogniser
        self.id = stream_id

    def feed(self, pcm: bytes) -> None:
        self._recogniser._send(b"A", self.id, pcm)

    async def finish(self) -> Heard:
        return await self._recogniser._finish(self)

    def cancel(self) -> None:
        self._recogniser._cancel(self)
