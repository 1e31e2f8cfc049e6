"""The voice bot's media path: Asterisk's AudioSocket (``AudioSocket(<uuid>,<host>:<port>)`` in the
dialplan) connects to the hub over TCP and streams the caller's audio; what the hub writes back is
played to the caller. Chosen over chan_websocket by measurement (docs/decisions/0038).

The protocol: frames ``kind (1) | length (2, big-endian) | payload``; kind ``0x01`` the call's
UUID (first), ``0x10`` audio (signed linear 16-bit, 8 kHz, mono; the size follows the caller's
packetisation, 320 bytes for 20 ms), ``0x03`` a DTMF digit, ``0x00`` hang-up, ``0xff`` an error.
Asterisk plays each audio frame the moment it arrives, so the hub paces what it sends in real time
(20 ms frames, at most ``LEAD_FRAMES`` ahead): stopping a prompt (barge-in) then stops the sound
within that lead. Asterisk closes the connection when the caller hangs up (no ``0x00`` was ever
seen); the hub closes it to give the channel back to the dialplan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

KIND_HANGUP, KIND_UUID, KIND_DTMF, KIND_AUDIO, KIND_ERROR = 0x00, 0x01, 0x03, 0x10, 0xFF
RATE = 8000
FRAME_MS = 20
FRAME_BYTES = RATE * 2 * FRAME_MS // 1000
LEAD_FRAMES = 2  # frames sent ahead of the clock: covers the event loop's jitter, bounds barge-in
MAX_PAYLOAD = 8192
HELLO_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class Audio:
    pcm: bytes

    @property
    def ms(self) -> int:
        return len(self.pcm) * 1000 // (RATE * 2)


@dataclass(frozen=True, slots=True)
class Dtmf:
    digit: str


@dataclass(frozen=True, slots=True)
class Gone:
    """The caller hung up (or the connection broke)."""


Incoming = Audio | Dtmf | Gone


@dataclass(frozen=True, slots=True)
class Played:
    first_audio_at: float | None  # loop time when the first frame went out (None: nothing played)
    stopped: bool  # cut short by ``stop``


class MediaCall:
    """One call's audio, both ways. ``incoming`` yields what the caller sends, in order."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._stop = asyncio.Event()
        self.closed = False

    async def incoming(self) -> Incoming:
        """The next frame from the caller; ``Gone`` from then on once the call is over."""
        while not self.closed:
            try:
                kind, length = struct.unpack(">BH", await self._reader.readexactly(3))
                if length > MAX_PAYLOAD:
                    raise ValueError("frame too long")
                payload = await self._reader.readexactly(length) if length else b""
            except (asyncio.IncompleteReadError, ConnectionError, ValueError):
                self.closed = True
                break
            if kind == KIND_AUDIO:
                return Audio(payload)
            if kind == KIND_DTMF and payload:
                return Dtmf(chr(payload[0]))
            if kind in (KIND_HANGUP, KIND_ERROR):
                self.closed = True
        return Gone()

    async def play(self, pcm: bytes, on_first: Callable[[float], None] | None = None) -> Played:
        """Send ``pcm`` paced in real time; returns when it is all out or ``stop`` was called."""
        self._stop.clear()
        loop = asyncio.get_running_loop()
        started = loop.time()
        first: float | None = None
        frames = [pcm[i:i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)]
        for n, frame in enumerate(frames):
            if self._stop.is_set() or self.closed:
                return Played(first, True)
            due = started + (n - LEAD_FRAMES) * FRAME_MS / 1000
            wait = due - loop.time()
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._stop.wait()
                if self._stop.is_set():
                    return Played(first, True)
            frame = frame.ljust(FRAME_BYTES, b"\0")
            try:
                self._writer.write(struct.pack(">BH", KIND_AUDIO, len(frame)) + frame)
                await self._writer.drain()
            except ConnectionError:
                self.closed = True
                return Played(first, True)
            if first is None:
                first = loop.time()
                if on_first is not None:
                    on_first(first)
        # the last frames are still ahead of the clock: the prompt ends when they have played
        rest = started + len(frames) * FRAME_MS / 1000 - loop.time()
        if rest > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(rest):
                    await self._stop.wait()
        return Played(first, self._stop.is_set())

    def stop(self) -> None:
        """Stop the prompt now (barge-in): no further frame is sent."""
        self._stop.set()

    async def close(self) -> None:
        """Give the channel back to the dialplan (Asterisk's AudioSocket() returns)."""
        self.closed = True
        self._stop.set()
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()


class AudioSocketServer:
    """Accepts Asterisk's connections and hands each to the session that ``expect``ed its UUID."""

    def __init__(self) -> None:
        self._expected: dict[uuid.UUID, asyncio.Future[MediaCall]] = {}
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(self._accept, host, port)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
        for future in self._expected.values():
            future.cancel()
        self._expected.clear()

    def expect(self) -> tuple[uuid.UUID, asyncio.Future[MediaCall]]:
        """A new UUID for the dialplan's AudioSocket(), and the future of its connection."""
        key = uuid.uuid4()
        future: asyncio.Future[MediaCall] = asyncio.get_running_loop().create_future()
        self._expected[key] = future
        future.add_done_callback(lambda _: self._expected.pop(key, None))
        return key, future

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            async with asyncio.timeout(HELLO_TIMEOUT_S):
                kind, length = struct.unpack(">BH", await reader.readexactly(3))
                payload = await reader.readexactly(length) if 0 < length <= 64 else b""
            key = uuid.UUID(bytes=payload) if kind == KIND_UUID and len(payload) == 16 else None
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError, ValueError):
            key = None
        future = self._expected.get(key) if key is not None else None
        if future is None or future.done():
            logger.warning("voice.media.refused reason=%s", "no_uuid" if key is None else "unknown_uuid")
            writer.close()
            return
        future.set_result(MediaCall(reader, writer))
