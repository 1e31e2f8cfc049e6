"""One agent's console stops reading while 50 customers and 10 other agents keep talking.

The stuck console is a raw WebSocket with a small receive buffer that never reads after the
handshake, so the hub's writes to it really block (the kernel buffers fill, then aiohttp's). The
test asserts conditions, not timings:

1. her socket is really stuck: a write waits in the hub's writer for her to read (``stalled``);
2. every other frame arrives (each customer's acks and agent replies, each agent's message frames)
   while her socket is still open and still stuck;
3. the hub closes her socket when its buffer overflows (``HUB_HTTP__WS_BUFFER_FRAMES``);
4. when she reconnects, her inbox and her conversations show everything she missed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from yarl import URL

from console.keys import LIVE
from hub.admin import create_agent
from hub.bootstrap import RunningHub
from hub.config import Settings
from tests.clients import AgentClient, WidgetClient, open_unread_socket
from tests.conftest import eventually, make_settings

CUSTOMERS = 50
AGENTS = 10
HERS = 3  # customers whose conversations the stuck agent holds
ROUNDS = 3
BIG = "电费账单" * 500  # 2,000 characters: about 12 KB in a console frame


@pytest.fixture
def settings(db_name: str) -> Settings:
    base = make_settings(db_name)
    return base.model_copy(update={
        # Long enough that only the buffer closes her socket here (the timeout has the same effect, later).
        "http": base.http.model_copy(update={"ws_send_timeout_s": 120.0, "ws_buffer_frames": 400}),
        # Her customers type faster than any person: the limits are not what this test is about.
        "webchat": base.webchat.model_copy(update={"rate_per_minute": 60_000, "frames_per_second": 1000.0,
                                                   "frames_burst": 5000}),
    })


class StuckConsole:
    """A console socket that completes the handshake and then never reads (4 KiB receive buffer)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, base_url: str, session_cookie: str) -> StuckConsole:
        return cls(*await open_unread_socket(f"{base_url}/console/ws", {
            "Origin": base_url, "Cookie": f"hub_session={session_cookie}"}))

    async def read_until_closed(self) -> None:
        """Only now read: what was buffered, then the end of the connection (EOF or reset)."""
        try:
            while await self.reader.read(65536):
                pass
        except ConnectionError:
            pass

    def close(self) -> None:
        self.writer.close()


async def customer(hub: RunningHub, http: aiohttp.ClientSession, text: str) -> tuple[WidgetClient, str]:
    widget = WidgetClient(hub.base_url, http)
    await widget.connect()
    return widget, (await widget.say(text))["conversation_id"]


async def test_a_console_that_stops_reading_delays_nobody_and_catches_up(
        hub: RunningHub, http: aiohttp.ClientSession) -> None:
    directory, live = hub.context.directory, hub.app[LIVE]
    await create_agent(directory, username="stuck", display_name="Stuck Agent", role="agent",
                       password="northgrid-demo", skills=["general"], capacity={"webchat": HERS})
    for i in range(AGENTS):
        await create_agent(directory, username=f"agent{i}", display_name=f"Agent {i}", role="agent",
                           password="northgrid-demo", skills=["general"], capacity={"webchat": 5})

    # She takes her customers' conversations with a console that reads, then stops taking offers.
    her = await AgentClient.online(hub.base_url, "stuck")
    hers = [await customer(hub, http, f"I am customer {i} of the stuck agent") for i in range(HERS)]
    for _ in range(HERS):
        await her.take_offer()
    await her.call("POST", "/api/me/status", {"status": "away"})
    assert her.ws is not None
    await her.ws.close()
    await eventually(lambda: not live.is_connected(her.agent["id"]))
    cookie = her.session.cookie_jar.filter_cookies(URL(hub.base_url))["hub_session"].value
    stuck = await StuckConsole.open(hub.base_url, cookie)
    await eventually(lambda: live.is_connected(her.agent["id"]))

    # 1. Her customers write until the hub's writes to her socket block.
    sent_to_her: dict[str, int] = {cid: 1 for _, cid in hers}
    for n in range(600):
        widget, cid = hers[n % HERS]
        await widget.say(BIG)
        sent_to_her[cid] += 1
        if live.stalled(her.agent["id"]):  # a write waits for her to read: not a frame merely queued
            break
    assert live.stalled(her.agent["id"]), "her socket never blocked: the test would prove nothing"

    # 2. Everyone else talks; every frame arrives while her socket is still stuck.
    consoles = [await AgentClient.online(hub.base_url, f"agent{i}") for i in range(AGENTS)]
    try:
        await talk(hub, http, consoles)
        assert live.is_connected(her.agent["id"]) and live.stalled(her.agent["id"])
    finally:
        for console in consoles:
            await console.close()

    # 3. More frames for her overflow her buffer: the hub drops her socket.
    for n in range(2000):
        widget, _ = hers[n % HERS]
        assert widget.ws is not None
        await widget.ws.send_json({"type": "typing", "active": n % 2 == 0})
        if not live.is_connected(her.agent["id"]):
            break
    await eventually(lambda: not live.is_connected(her.agent["id"]))
    await asyncio.wait_for(stuck.read_until_closed(), timeout=30)
    stuck.close()

    # 4. She reconnects and catches up from MongoDB: her inbox and every message she missed.
    try:
        await her.connect()
        inbox = await her.call("GET", "/api/inbox")
        assert {c["id"] for c in inbox["assigned"]} == set(sent_to_her)
        for cid, count in sent_to_her.items():
            view = await her.call("GET", f"/api/conversations/{cid}")
            texts = [e["message"]["text"] for e in view["timeline"] if e["kind"] == "message"]
            assert len(texts) == count and texts[-1] == BIG
    finally:
        await her.close()
        for widget, _ in hers:
            await widget.close()


async def talk(hub: RunningHub, http: aiohttp.ClientSession, consoles: list[AgentClient]) -> None:
    """50 customers, ROUNDS messages each; their agents answer every one. Every ack, every reply and
    every agent-side message frame must arrive (each wait fails after 30 s)."""
    answered: set[str] = set()
    framed: set[str] = set()  # texts of the customer messages that reached an agent as a frame

    async def answer(console: AgentClient, cid: str, message: dict[str, Any]) -> None:
        if message["author"] == "customer" and message["id"] not in answered:
            answered.add(message["id"])
            await console.reply(cid, f"re: {message['text']}")

    async def serve(console: AgentClient) -> None:
        while True:
            frame = await console.next(timeout=60)
            if frame["type"] == "offer":
                cid = frame["conversation"]["id"]
                try:
                    await console.call("POST", f"/api/conversations/{cid}/accept")
                except AssertionError:  # the offer expired meanwhile: it is offered again
                    continue
                # The first message came before anyone held the conversation: it is in the timeline.
                view = await console.call("GET", f"/api/conversations/{cid}")
                for entry in view["timeline"]:
                    if entry["kind"] == "message":
                        await answer(console, cid, entry["message"])
            elif frame["type"] == "message" and frame["message"]["author"] == "customer":
                framed.add(frame["message"]["text"])
                await answer(console, frame["conversation_id"], frame["message"])

    async def one(i: int) -> None:
        widget = WidgetClient(hub.base_url, http)
        await widget.connect()
        try:
            for r in range(ROUNDS):
                text = f"customer {i} round {r}"
                await widget.say(text)  # the ack
                reply = await widget.next("message", timeout=30)
                assert reply["message"]["text"] == f"re: {text}"
        finally:
            await widget.close()

    servers = [asyncio.create_task(serve(c), name=f"test:agent{i}") for i, c in enumerate(consoles)]
    try:
        await asyncio.gather(*(one(i) for i in range(CUSTOMERS)))
    finally:
        for task in servers:
            task.cancel()
        results = await asyncio.gather(*servers, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results), results
    # Every later message reached its agent's console as a frame (a first one may precede the offer).
    later = {f"customer {i} round {r}" for i in range(CUSTOMERS) for r in range(1, ROUNDS)}
    assert later <= framed, sorted(later - framed)[:5]
