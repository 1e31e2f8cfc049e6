"""A FastAGI server: Asterisk's ``AGI(agi://host:port/<script>)`` hands a call's control to the hub.

Our own (about a hundred lines) instead of ``panoramisk.fast_agi``: that one reads the request head
with an unbounded ``while b'\\n\\n' not in buffer`` loop that spins forever on a peer that closes
early, has no timeout and no size limit, and decodes with ``strict``. Here the head is bounded in
lines, bytes and time, every answer has a timeout, a hung-up channel is an exception
(:class:`CallGone`), and a request for a script nobody serves is logged and closed.

The protocol (Asterisk's ``res_agi``): Asterisk sends ``agi_<name>: <value>`` lines and an empty
line; then the server sends one command per line and reads one answer per command,
``200 result=<value> [(<data>)] [<extra>]``; a ``HANGUP`` line may arrive when the channel hangs up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

logger = logging.getLogger(__name__)

MAX_HEAD_LINES = 80  # Asterisk sends about 25 agi_* variables, plus the script's arguments
MAX_LINE_BYTES = 2048
_REPLY = re.compile(r"^(?P<code>\d{3}) result=(?P<result>\S*)(?: \((?P<data>[^)]*)\))?(?: (?P<extra>.*))?$")


class AgiError(Exception):
    """The request or an answer broke the protocol (or came too late)."""


class CallGone(AgiError):
    """The channel hung up (``HANGUP``, ``result=-1``, 511 or the socket closed)."""


@dataclass(frozen=True, slots=True)
class AgiReply:
    code: int
    result: str
    data: str | None = None


def parse_head(lines: list[str]) -> dict[str, str]:
    """``agi_<name>: <value>`` lines as ``{name: value}``; raises ``AgiError`` for anything else."""
    head: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(": ")
        if not sep or not name.startswith("agi_") or not name[4:].replace("_", "").isalnum():
            raise AgiError("not an AGI variable line")
        head[name[4:]] = value
    if "network_script" not in head and "request" not in head:
        raise AgiError("the request names no script")
    return head


def parse_reply(line: str) -> AgiReply:
    """One answer line; raises ``CallGone`` for a dead channel and ``AgiError`` for garbage."""
    if line == "HANGUP":
        raise CallGone("the channel hung up")
    match = _REPLY.match(line)
    if match is None:
        if line.startswith("511"):
            raise CallGone("the channel is dead")
        raise AgiError("unreadable AGI answer")
    reply = AgiReply(int(match["code"]), match["result"], match["data"])
    if reply.code == 200 and reply.result == "-1":
        raise CallGone("the command failed on a hung-up channel")
    if reply.code != 200:
        raise AgiError(f"AGI answered {reply.code}")
    return reply


def script_of(head: Mapping[str, str]) -> str:
    """The script path without its query string (``agi://h:p/inbound?x=1`` -> ``inbound``)."""
    script = head.get("network_script") or head.get("request", "").rsplit("/", 1)[-1]
    return script.split("?", 1)[0].strip("/")


class AgiSession:
    """One call's AGI conversation. ``head`` holds the request's variables (``channel``, ``uniqueid``,
    ``callerid`` ...) as Asterisk sent them: treat them as untrusted text."""

    def __init__(self, head: Mapping[str, str], reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 timeout_s: float) -> None:
        self.head = head
        self._reader = reader
        self._writer = writer
        self._timeout_s = timeout_s

    async def command(self, text: str, *, timeout_s: float | None = None) -> AgiReply:
        """Send one command and read its answer (skipping ``100 Trying``); ``timeout_s`` for commands
        that last (a prompt, waiting for digits) on top of the session's own timeout."""
        if "\n" in text or "\r" in text:
            raise ValueError("an AGI command is one line")
        self._writer.write(text.encode() + b"\n")
        try:
            async with asyncio.timeout(self._timeout_s + (timeout_s or 0.0)):
                await self._writer.drain()
                while True:
                    reply = parse_reply(await _line(self._reader))
                    if reply.code != 100:
                        return reply
        except (ConnectionError, asyncio.IncompleteReadError) as err:
            raise CallGone("the AGI connection closed") from err
        except asyncio.LimitOverrunError as err:
            raise AgiError("an AGI answer line is too long") from err
        except TimeoutError as err:
            raise AgiError("no AGI answer in time") from err


Script = Callable[[AgiSession], Awaitable[None]]


class AgiServer:
    """Serves ``scripts`` by name; ``start`` returns the bound port (0 picks a free one)."""

    def __init__(self, scripts: Mapping[str, Script], *, timeout_s: float) -> None:
        self._scripts = dict(scripts)
        self._timeout_s = timeout_s
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(self._accept, host, port, limit=MAX_LINE_BYTES)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
        for task in list(self._sessions):
            task.cancel()
        await asyncio.gather(*self._sessions, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._sessions.add(task)
        try:
            await self._serve(reader, writer)
        except asyncio.CancelledError:
            return  # only ``close`` cancels a session: the call is reconciled at the next start
        finally:
            self._sessions.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(self._timeout_s):
                head = parse_head(await _head_lines(reader))
        except (AgiError, TimeoutError, ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ValueError) as err:
            logger.warning("agi.request.refused reason=%s", type(err).__name__ if not isinstance(err, AgiError)
                           else str(err))
            return
        name = script_of(head)
        script = self._scripts.get(name)
        if script is None:
            logger.warning("agi.request.unknown_script script=%r", name[:40])
            return
        try:
            await script(AgiSession(head, reader, writer, self._timeout_s))
        except CallGone:
            logger.info("agi.call.gone script=%s", name)
        except AgiError as err:
            logger.warning("agi.call.failed script=%s reason=%s", name, err)
        except Exception:
            logger.exception("agi.script.crashed script=%s", name)


async def _line(reader: asyncio.StreamReader) -> str:
    raw = await reader.readuntil(b"\n")
    return raw.rstrip(b"\r\n").decode("utf-8", errors="replace")


async def _head_lines(reader: asyncio.StreamReader) -> list[str]:
    lines: list[str] = []
    while True:
        line = await _line(reader)
        if not line:
            return lines
        lines.append(line)
        if len(lines) > MAX_HEAD_LINES:
            raise AgiError("too many AGI variables")
