"""One writer per WebSocket: a bounded buffer, a send timeout, and no waiting on a client that stops reading.

The fan-out (console frames, widget frames) only ever calls :meth:`SocketWriter.send`, which never
waits. A frame sent while nothing is queued or being written is written at once, in the caller's
step, when the socket takes it without waiting (it nearly always does: the transport buffers it);
otherwise, or when frames are queued, the writer's own task writes it, in order (ADR 0073: a frame
then costs no task switch and no timer). A client that stops reading is disconnected instead of
being waited on:

- its buffer is full (``max_frames`` frames not yet written): the connection is aborted at once;
- one write takes longer than ``send_timeout_s``: the socket is closed with 1013 (try again later),
  and aborted if even the close frame cannot be written within ``CLOSE_GRACE_S``.

A client that never reads sees only the dropped connection (1006); either way it reconnects and
catches up from MongoDB (the console reloads its inbox, the widget sends ``hello`` with ``since``).
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Protocol

from hub.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

MAX_FRAMES = 256
SEND_TIMEOUT_S = 5.0
CLOSE_GRACE_S = 1.0
TOO_SLOW = 1013  # RFC 6455 "Try Again Later": the client should reconnect


def abort_transport(transport: asyncio.BaseTransport | None) -> None:
    """Drop a connection at once, discarding what is buffered (``transport.close`` would wait for
    a client that does not read). For ``SocketWriter(abort=lambda: abort_transport(request.transport))``."""
    if transport is not None and isinstance(transport, asyncio.WriteTransport):
        transport.abort()


class TextSocket(Protocol):
    """What the writer needs of a WebSocket (aiohttp's ``WebSocketResponse`` fits)."""

    @property
    def closed(self) -> bool: ...

    async def send_str(self, data: str, compress: int | None = None) -> None: ...

    async def close(self, *, code: int = ..., message: bytes = ..., drain: bool = ...) -> bool: ...


class SocketWriter:
    """Owns the writes of one socket. Lifecycle: ``async with SocketWriter(...)`` around the socket's
    handler; leaving stops the task (it does not close the socket: the handler does).

    ``abort`` drops the connection without a close handshake (``request.transport.abort``).
    ``send`` and ``send_text`` never wait and never raise; they return False when the frame will not
    be written (socket closing, or this frame overflowed the buffer and the client is being dropped).
    """

    def __init__(self, ws: TextSocket, *, abort: Callable[[], None], name: str, max_frames: int = MAX_FRAMES,
                 send_timeout_s: float = SEND_TIMEOUT_S) -> None:
        self._ws = ws
        self._abort = abort
        self.name = name
        self._max_frames = max_frames
        self._send_timeout_s = send_timeout_s
        self._queue: collections.deque[str | tuple[int, bytes]] = collections.deque()
        self._wakeup = asyncio.Event()
        self._done = asyncio.Event()
        self._closing = False
        self._writing = False  # inside a write: seen from outside the writer's task only while it waits
        # a write begun at once that has to wait for the client to read: the writer's task ends it
        self._begun: tuple[Coroutine[Any, Any, None], Any] | None = None
        self._task: asyncio.Task[None] | None = None
        self.too_slow = False  # disconnected because it stopped reading

    async def __aenter__(self) -> SocketWriter:
        return self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def start(self) -> SocketWriter:
        """Start the writer's task (``async with`` does it); returns the writer."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"socket-writer:{self.name}")
        return self

    async def stop(self) -> None:
        """Stop writing (what is queued is dropped); the socket itself is the handler's to close."""
        self._closing = True
        if self._task is not None:
            await cancel_and_wait(self._task)

    @property
    def pending(self) -> int:
        """Frames queued and not yet written (a client that stopped reading makes this grow)."""
        return sum(1 for item in self._queue if isinstance(item, str))

    @property
    def stalled(self) -> bool:
        """A write is waiting for the client to read. A write that does not wait ends before any other
        task runs, so whoever sees this true sees a socket whose client stopped reading (or reads slower
        than it is written to), not a frame merely queued."""
        return self._writing

    @property
    def open(self) -> bool:
        return not self._closing and not self._ws.closed

    @property
    def closed(self) -> bool:
        """Closing or closed: nothing more will be written."""
        return not self.open

    def send(self, frame: Mapping[str, Any]) -> bool:
        return self.send_text(json.dumps(frame, separators=(",", ":")))

    def send_text(self, data: str) -> bool:
        """Write or queue one encoded frame (encode once, send to many sockets)."""
        if not self.open:
            return False
        if not self._queue and not self._writing and self._task is not None:
            return self._write_at_once(data)
        if len(self._queue) >= self._max_frames:
            self._give_up("buffer_full")
            return False
        self._queue.append(data)
        self._wakeup.set()
        return True

    def _write_at_once(self, data: str) -> bool:
        """Run the socket's send up to its first wait: without one (the transport took the frame)
        the frame is written; with one (the client's buffer is full) the writer's task waits it out
        under the send timeout, and frames sent meanwhile queue behind it."""
        write = self._ws.send_str(data)
        try:
            waiting = write.send(None)
        except StopIteration:
            return True
        except (ConnectionError, RuntimeError):  # the client went away: its handler cleans up
            self._closing = True
            return False
        except Exception:  # never raised into the fan-out: this socket is dropped instead
            logger.exception("socket.write.failed socket=%s", self.name)
            self._give_up("write_failed")
            return False
        self._begun = (write, waiting)
        self._writing = True
        self._wakeup.set()
        return True

    async def close(self, *, code: int, message: bytes) -> None:
        """Write what is queued, then close with ``code``; bounded by the send timeout and the close grace."""
        if self._closing:
            return
        self._queue.append((code, message))
        self._closing = True
        self._wakeup.set()
        try:
            async with asyncio.timeout(self._send_timeout_s + CLOSE_GRACE_S):
                await self._done.wait()
        except TimeoutError:
            self._give_up("close_timeout")

    def _give_up(self, reason: str) -> None:
        """The client is not reading: drop the connection now (its handler's receive loop ends)."""
        if not self.too_slow:
            logger.warning("socket.too_slow socket=%s reason=%s pending=%d", self.name, reason, self.pending)
        self.too_slow = True
        self._closing = True
        self._queue.clear()
        self._abort()

    async def _run(self) -> None:
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                if self._begun is not None:
                    if not await self._write(finish(*self._begun)):
                        return
                    self._begun = None
                while self._queue:
                    item = self._queue[0]
                    if isinstance(item, tuple):
                        await self._close(*item)
                        return
                    if not await self._write(self._ws.send_str(item)):
                        return
                    if self._queue and self._queue[0] is item:
                        self._queue.popleft()
        finally:
            if self._begun is not None:
                self._begun[0].close()
                self._begun = None
            self._done.set()

    async def _write(self, write: Coroutine[Any, Any, None]) -> bool:
        self._writing = True
        try:
            async with asyncio.timeout(self._send_timeout_s):
                await write
        except TimeoutError:
            logger.warning("socket.too_slow socket=%s reason=send_timeout pending=%d", self.name, self.pending)
            self.too_slow = True
            self._closing = True
            self._queue.clear()
            await self._close(TOO_SLOW, b"client too slow")
            return False
        except (ConnectionError, RuntimeError):  # the client went away: its handler cleans up
            self._closing = True
            self._queue.clear()
            return False
        finally:
            self._writing = False
        return True

    async def _close(self, code: int, message: bytes) -> None:
        try:
            async with asyncio.timeout(CLOSE_GRACE_S):
                await self._ws.close(code=code, message=message)
        except (TimeoutError, ConnectionError, RuntimeError):
            self._abort()


async def finish(write: Coroutine[Any, Any, None], waiting: Any) -> None:
    """Drive a coroutine begun outside any task (``write.send(None)`` returned ``waiting``, what it
    waits for) to its end, as a task would: resumed once what it waits for is done. Closed if
    this is cancelled (the send timeout)."""
    try:
        while True:
            if isinstance(waiting, asyncio.Future):
                await asyncio.wait((waiting,))  # done either way: the coroutine reads its outcome
            else:
                await asyncio.sleep(0)  # a bare yield: it asked for one turn of the loop
            waiting = write.send(None)
    except StopIteration:
        return
    finally:
        write.close()
