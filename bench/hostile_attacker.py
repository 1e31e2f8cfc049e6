"""The attacking widgets of ``hostile_text.py``, run as their own process (the attacker is another
machine, not part of the load generator whose timing it would disturb).

Run by hostile_text.py:  hostile_attacker.py KIND URL --sockets 4 --start EPOCH --seconds 30 --out FILE

* ``surrogate``: each socket says hello once, then sends ``{"type":"message","client_id":…,
  "text":"x \\ud800 y"}`` frames back to back, each after the hub's answer to the previous one.
* ``hello-flood``: each socket says hello with ``visitor: null`` and sends a first message, again
  and again; when the hub closes the socket it connects again at once (it ignores retry_after).

Every socket claims the same client address (``X-Forwarded-For``; the hub reads it only when the
peer is a trusted proxy). Writes a JSON tally to ``--out`` when the time is up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import WSMsgType

SURROGATE_FRAME = '{"type":"message","client_id":"%s","text":"x \\ud800 y"}'
ATTACKER_ADDRESS = "203.0.113.66"  # TEST-NET-3: never a real peer
ANSWER_TIMEOUT_S = 10.0


@dataclass
class AttackTally:
    """What the attacking sockets did and what the hub answered."""

    kind: str
    sockets: int
    seconds: float = 0.0
    late_start_s: float = 0.0
    frames_sent: int = 0
    answers: dict[str, int] = field(default_factory=dict)  # "welcome", "ack", or an error frame's code
    connections: int = 0
    closes: dict[str, int] = field(default_factory=dict)  # close code the hub gave
    hellos: int = 0  # hello frames sent (the rest of frames_sent are messages)
    identities: int = 0  # welcomes to hello with visitor null
    conversations: int = 0  # first messages acknowledged (each opened a conversation)

    def answer(self, key: str) -> None:
        self.answers[key] = self.answers.get(key, 0) + 1


async def next_answer(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any] | None:
    """The hub's next welcome / ack / error frame; None when the socket closed or nothing came."""
    deadline = time.monotonic() + ANSWER_TIMEOUT_S
    while (left := deadline - time.monotonic()) > 0:
        try:
            msg = await ws.receive(timeout=left)
        except TimeoutError:
            return None
        if msg.type is not WSMsgType.TEXT:
            return None
        frame: dict[str, Any] = json.loads(msg.data)
        if frame.get("type") in ("welcome", "ack", "error"):
            return frame
    return None


def answer_key(frame: dict[str, Any] | None) -> str:
    if frame is None:
        return "closed_or_silent"
    return str(frame["code"]) if frame["type"] == "error" else str(frame["type"])


async def send(ws: aiohttp.ClientWebSocketResponse, text: str, tally: AttackTally) -> dict[str, Any] | None:
    """One frame and the hub's answer to it, tallied."""
    await ws.send_str(text)
    tally.frames_sent += 1
    frame = await next_answer(ws)
    tally.answer(answer_key(frame))
    return frame


async def close_code(ws: aiohttp.ClientWebSocketResponse, tally: AttackTally) -> None:
    """Wait briefly for the hub's close (it follows a refusal that ends the connection), tally its code."""
    if not ws.closed:
        try:
            msg = await ws.receive(timeout=ANSWER_TIMEOUT_S)
        except TimeoutError:
            return
        if msg.type is WSMsgType.TEXT:
            return
    key = str(ws.close_code)
    tally.closes[key] = tally.closes.get(key, 0) + 1


async def hello_new_visitor(ws: aiohttp.ClientWebSocketResponse, tally: AttackTally) -> bool:
    tally.hellos += 1
    frame = await send(ws, json.dumps({"type": "hello", "visitor": None}), tally)
    if frame is not None and frame["type"] == "welcome":
        tally.identities += 1
        return True
    return False


async def surrogates(ws: aiohttp.ClientWebSocketResponse, end: float, tally: AttackTally) -> None:
    """One connection of the surrogate attack: hello, then bad frames until the time is up."""
    await hello_new_visitor(ws, tally)
    while time.monotonic() < end and not ws.closed:
        frame = await send(ws, SURROGATE_FRAME % uuid.uuid4().hex, tally)
        if frame is not None and frame["type"] == "ack":
            tally.conversations += 1  # accepted: the very thing that must not happen
    if ws.closed:
        await close_code(ws, tally)


async def hellos(ws: aiohttp.ClientWebSocketResponse, end: float, tally: AttackTally) -> None:
    """One connection of the hello flood: new identity and first message until the hub refuses."""
    while time.monotonic() < end and await hello_new_visitor(ws, tally):
        message = json.dumps({"type": "message", "client_id": uuid.uuid4().hex, "text": "hello?"})
        frame = await send(ws, message, tally)
        if frame is not None and frame["type"] == "ack":
            tally.conversations += 1
    if time.monotonic() < end:
        await close_code(ws, tally)


Connection = Callable[[aiohttp.ClientWebSocketResponse, float, AttackTally], Awaitable[None]]


async def attacking_socket(http: aiohttp.ClientSession, url: str, end: float, tally: AttackTally,
                           one_connection: Connection) -> None:
    """Connect again whenever the hub closes the socket, until the time is up."""
    while time.monotonic() < end:
        tally.connections += 1
        try:
            async with http.ws_connect(url, headers={"X-Forwarded-For": ATTACKER_ADDRESS}, max_msg_size=0) as ws:
                await one_connection(ws, end, tally)
        except (aiohttp.ClientError, ConnectionError) as err:
            tally.answer(f"connect_failed:{type(err).__name__}")
            await asyncio.sleep(0.05)


async def attack(kind: str, base_url: str, sockets: int, start_epoch: float, seconds: float) -> AttackTally:
    tally = AttackTally(kind=kind, sockets=sockets)
    tally.late_start_s = round(max(0.0, time.time() - start_epoch), 3)
    await asyncio.sleep(max(0.0, start_epoch - time.time()))
    t0 = time.monotonic()
    one_connection = surrogates if kind == "surrogate" else hellos
    url = base_url.replace("http", "ws", 1) + "/webchat/ws"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        results = await asyncio.gather(*(attacking_socket(http, url, t0 + seconds, tally, one_connection)
                                         for _ in range(sockets)),
                                       return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            tally.answer(f"attacker_failed:{type(result).__name__}")
    tally.seconds = round(time.monotonic() - t0, 2)
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("kind", choices=["surrogate", "hello-flood"])
    parser.add_argument("url", help="the hub's base URL, http://127.0.0.1:PORT")
    parser.add_argument("--sockets", type=int, default=4)
    parser.add_argument("--start", type=float, required=True, help="wall-clock time (epoch s) to begin")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    tally = asyncio.run(attack(args.kind, args.url, args.sockets, args.start, args.seconds))
    Path(args.out).write_text(json.dumps(asdict(tally), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
