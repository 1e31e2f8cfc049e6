"""``SocketWriter`` against real sockets (ADR 0073): a frame sent to an idle socket is written in the
caller's step (nothing queued, no task switch); once a client stops reading, the write that has to
wait is finished by the writer's task and every frame sent meanwhile follows it, in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from hub.socket_writer import SocketWriter, abort_transport
from tests.clients import open_unread_socket

BIG = "x" * 60_000  # a few of these fill a 4 KiB receive buffer and the kernel's send buffer


class Server:
    """One WebSocket route whose handler wraps its socket in a ``SocketWriter`` handed to the test."""

    def __init__(self) -> None:
        self.writers: asyncio.Queue[SocketWriter] = asyncio.Queue()
        self.port = 0

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async with SocketWriter(ws, abort=lambda: abort_transport(request.transport), name="test",
                                max_frames=1000, send_timeout_s=60) as writer:
            await self.writers.put(writer)
            async for _ in ws:
                pass
        return ws


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    srv = Server()
    app = web.Application()
    app.router.add_get("/ws", srv.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    srv.port = runner.addresses[0][1]
    yield srv
    await runner.cleanup()


async def test_a_frame_to_an_idle_socket_is_written_before_send_returns(server: Server) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(f"http://127.0.0.1:{server.port}/ws") as ws:
        writer = await asyncio.wait_for(server.writers.get(), 10)
        for n in range(20):
            assert writer.send_text(f"frame {n}")
            assert writer.pending == 0 and not writer.stalled, "the frame waited in the queue"
        for n in range(20):
            assert (await ws.receive_str(timeout=10)) == f"frame {n}"


async def test_frames_sent_while_a_write_waits_follow_it_in_order(server: Server) -> None:
    reader, raw = await open_unread_socket(f"http://127.0.0.1:{server.port}/ws")
    try:
        writer = await asyncio.wait_for(server.writers.get(), 10)
        sent: list[str] = []
        for n in range(500):  # big frames until one write has to wait for the client to read
            sent.append(f"{n}:{BIG}")
            assert writer.send_text(sent[-1])
            if writer.stalled:
                break
        assert writer.stalled, "the client's buffers never filled: the test would prove nothing"
        for n in range(20):  # small ones now queue behind the waiting write
            sent.append(f"small {n}")
            assert writer.send_text(sent[-1])
        assert writer.pending == 20
        received = [await asyncio.wait_for(read_frame(reader), 30) for _ in sent]
        assert received == sent
        assert not writer.stalled and writer.pending == 0
    finally:
        raw.close()


async def read_frame(reader: asyncio.StreamReader) -> str:
    """One unmasked text frame from the server (RFC 6455 section 5.2)."""
    first, second = await reader.readexactly(2)
    assert first == 0x81, f"not a final text frame: {first:#x}"
    length = second & 0x7F
    if length == 126:
        length = int.from_bytes(await reader.readexactly(2), "big")
    elif length == 127:
        length = int.from_bytes(await reader.readexactly(8), "big")
    return (await reader.readexactly(length)).decode()
