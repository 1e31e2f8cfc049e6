"""A fake operator for Kannel's ``smsc = fake`` connection: injects MO and collects MT in-process.

bearerbox LISTENS on the fake SMSC port; this client connects and speaks smsc_fake's line protocol
(the one of Kannel's ``fakesmsc`` binary), one message per line:

    "<sender> <receiver> text <plain text>"              -> MO with coding 0
    "<sender> <receiver> ucs2 <urlencoded UTF-16BE>"     -> MO with coding 2 (the hub gets UTF-8: mo-recode)
    "<sender> <receiver> data <urlencoded bytes>"        -> MO with coding 1 (8-bit)

MT lines come back in the same shape with the kinds ``text``, ``data``, ``ucs-2`` or, for parts of
a concatenated message, ``udh <urlencoded udh> data <urlencoded bytes>`` (without the coding: the
caller has to know a part is UCS-2). Only one client can be connected to a fake SMSC at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import urllib.parse
from dataclasses import dataclass
from types import TracebackType

# Sent as a plain ``text`` line (coding 0): printable ASCII without the GSM-7 extension characters.
PLAIN = frozenset(chr(c) for c in range(0x20, 0x7F)) - frozenset("[]{}\\^~|`")


def _quote(data: bytes) -> str:
    return urllib.parse.quote_from_bytes(data, safe="")


def _unquote(text: str) -> bytes:  # Kannel's URL encoder writes ' ' as '+'
    return urllib.parse.unquote_to_bytes(text.replace("+", " "))


@dataclass(frozen=True, slots=True)
class MT:
    """One mobile-terminated SMS (or one part of a concatenated one) as the operator received it."""

    sender: str
    receiver: str
    kind: str  # text | data | ucs-2 | udh
    raw: bytes  # UTF-16BE for ucs-2 (and for parts of a UCS-2 message), else UTF-8
    udh: bytes = b""

    def text(self, ucs2: bool = False) -> str:
        if self.kind == "ucs-2" or ucs2:
            return self.raw.decode("utf-16-be")
        # Kannel keeps 7-bit text in UTF-8 internally; the fake SMSC link writes those bytes as they are.
        return self.raw.decode("utf-8", "replace")

    @property
    def part(self) -> tuple[int, int, int] | None:
        """(reference, total, sequence) of a concatenated part (UDH IE 0x00), else None."""
        if len(self.udh) >= 6 and self.udh[1] == 0:
            return self.udh[3], self.udh[4], self.udh[5]
        return None


CONTINUATION_WAIT_S = 0.05
_HEADER = re.compile(r"\+?[0-9A-Za-z]{1,32} \+?[0-9A-Za-z]{1,32} (text|data|ucs-2|udh)( .*)?")


def _parse_mt(line: str) -> MT | None:
    if not _HEADER.fullmatch(line):
        return None
    fields = line.split(" ", 3)
    sender, receiver, kind = fields[:3]
    rest = fields[3] if len(fields) > 3 else ""
    if kind == "text":
        return MT(sender, receiver, kind, rest.encode("latin-1"))
    if kind == "udh":
        udh, _kind, data = rest.split(" ", 2)
        return MT(sender, receiver, kind, _unquote(data), _unquote(udh))
    return MT(sender, receiver, kind, _unquote(rest))  # data, ucs-2


class FakeSMSC:
    """``async with FakeSMSC(port) as smsc``: connected to bearerbox; ``send_mo`` and ``next_mt``."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host, self.port = host, port
        self.mt: asyncio.Queue[MT] = asyncio.Queue()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> FakeSMSC:
        for _ in range(100):  # bearerbox opens the port a moment after it starts
            try:
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
                break
            except OSError:
                await asyncio.sleep(0.05)
        else:
            raise ConnectionError(f"fake SMSC port {self.port} does not accept connections")
        self._task = asyncio.create_task(self._read(), name="tests:fake-smsc")
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()

    async def _read(self) -> None:
        """MT lines into ``mt``. A 7-bit MT is written raw, so a line break in its text splits it over
        several lines (a limit of the fake protocol, not of SMS): lines that are not an MT header
        continue the previous ``text`` MT, which is emitted once the next header or a pause comes."""
        assert self._reader is not None
        pending: MT | None = None
        while True:
            try:
                async with asyncio.timeout(CONTINUATION_WAIT_S if pending else None):
                    line = await self._reader.readline()
            except TimeoutError:
                line = None
            if line is None or not line:
                if pending is not None:
                    await self.mt.put(pending)
                    pending = None
                if line is None:
                    continue
                return
            text = line.decode("latin-1").rstrip("\r\n")
            mt = _parse_mt(text)
            if mt is None and pending is not None:
                pending = MT(pending.sender, pending.receiver, "text", pending.raw + b"\n" + text.encode("latin-1"))
                continue
            if pending is not None:
                await self.mt.put(pending)
                pending = None
            if mt is not None and mt.kind == "text":
                pending = mt
            elif mt is not None:
                await self.mt.put(mt)

    async def send_mo(self, sender: str, receiver: str, text: str) -> None:
        """One MO: plain single-line ASCII as ``text`` (coding 0), anything else as UCS-2."""
        if all(c in PLAIN for c in text):
            line = f"{sender} {receiver} text {text}\n"
        else:
            line = f"{sender} {receiver} ucs2 {_quote(text.encode('utf-16-be'))}\n"
        await self.send_line(line)

    async def send_line(self, line: str) -> None:
        assert self._writer is not None
        self._writer.write(line.encode("latin-1"))
        await self._writer.drain()

    async def next_mt(self, timeout_s: float = 10.0) -> MT:
        return await asyncio.wait_for(self.mt.get(), timeout_s)

    async def next_text(self, timeout_s: float = 10.0) -> str:
        """The next whole MT text, joining the parts of a concatenated one."""
        first = await self.next_mt(timeout_s)
        if first.part is None:
            return first.text()
        # fakesmsc drops the coding of parts: tell UTF-8 (7-bit text) from UTF-16BE (UCS-2) by the bytes.
        parts = [first] + [await self.next_mt(timeout_s) for _ in range(first.part[1] - 1)]
        raw = b"".join(p.raw for p in sorted(parts, key=lambda p: p.part[2] if p.part else 0))
        if 0 not in raw:  # UTF-16BE of Latin text has NULs; of CJK text, it is not valid UTF-8
            with contextlib.suppress(UnicodeDecodeError):
                return raw.decode("utf-8")
        return raw.decode("utf-16-be", "replace")
