"""Protocol-level clients of the hub for tests: a web-chat widget and an agent console."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import uuid
from typing import Any
from urllib.parse import urlsplit

import aiohttp


async def open_unread_socket(url: str, headers: dict[str, str] | None = None,
                             ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A raw WebSocket client of ``url`` (``http://host:port/path``) with a 4 KiB receive buffer that
    reads only when the test reads: a client that stops reading, as a stuck browser tab does."""
    parts = urlsplit(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (parts.hostname, parts.port))
    reader, writer = await asyncio.open_connection(sock=sock, limit=1024)
    key = base64.b64encode(os.urandom(16)).decode()
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    writer.write((f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                  f"{extra}\r\n").encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    return reader, writer


class WidgetClient:
    """Speaks the widget protocol of docs/api.md over a real WebSocket."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession) -> None:
        self.base_url = base_url
        self.session = session
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.visitor: dict[str, str] | None = None
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.welcome: dict[str, Any] = {}
        self._reader: asyncio.Task[None] | None = None

    async def connect(self, since: str | None = None, name: str | None = None) -> dict[str, Any]:
        self.ws = await self.session.ws_connect(self.base_url.replace("http", "ws", 1) + "/webchat/ws")
        await self.ws.send_json({"type": "hello", "visitor": self.visitor, "since": since, "name": name})
        self.welcome = await self.next("welcome")
        self.visitor = self.welcome["visitor"]
        return self.welcome

    async def next(self, kind: str | None = None, timeout: float = 10.0) -> dict[str, Any]:
        """The next frame (of ``kind``), skipping others."""
        assert self.ws is not None
        return await next_frame(self.ws, kind, timeout)

    async def send(self, text: str, client_id: str | None = None) -> str:
        assert self.ws is not None
        client_id = client_id or uuid.uuid4().hex
        # Like the browser's JSON.stringify: UTF-8, no \u escapes (they would triple CJK frames).
        frame = {"type": "message", "client_id": client_id, "text": text}
        await self.ws.send_str(json.dumps(frame, ensure_ascii=False))
        return client_id

    async def say(self, text: str, client_id: str | None = None) -> dict[str, Any]:
        """Send and wait for the ack; returns the stored message."""
        client_id = await self.send(text, client_id)
        ack = await self.next("ack")
        assert ack["client_id"] == client_id
        return ack["message"]  # type: ignore[no-any-return]

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


class AgentClient:
    """An agent's console: HTTP API with session cookie and CSRF header, plus the live socket."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""
        self.agent: dict[str, Any] = {}
        self.ws: aiohttp.ClientWebSocketResponse | None = None

    @classmethod
    async def online(cls, base_url: str, username: str) -> AgentClient:
        """Logged in, console socket open, status available: ready for offers."""
        client = await cls(base_url).login(username)
        await client.connect()
        await client.available()
        return client

    async def login(self, username: str, password: str = "northgrid-demo") -> AgentClient:
        data = await self.call("POST", "/api/login", {"username": username, "password": password})
        self.csrf, self.agent = data["csrf_token"], data["agent"]
        return self

    async def call(self, method: str, path: str, body: Any = None, expect: int = 200) -> dict[str, Any]:
        headers = {"X-CSRF-Token": self.csrf} if self.csrf else {}
        async with self.session.request(method, self.base_url + path, json=body, headers=headers) as resp:
            data = await resp.json()
            assert resp.status == expect, (resp.status, data)
            return data  # type: ignore[no-any-return]

    async def connect(self) -> dict[str, Any]:
        self.ws = await self.session.ws_connect(self.base_url.replace("http", "ws", 1) + "/console/ws",
                                                origin=self.base_url)
        return await self.next("hello")

    async def next(self, kind: str | None = None, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
        """The next frame of ``kind`` whose fields match (``conversation__id=`` looks inside)."""
        assert self.ws is not None
        return await next_frame(self.ws, kind, timeout, match)

    async def available(self) -> None:
        await self.call("POST", "/api/me/status", {"status": "available"})

    async def take_offer(self, timeout: float = 10.0) -> str:
        """Wait for an offer and accept it; returns the conversation id."""
        offer = await self.next("offer", timeout=timeout)
        conversation_id: str = offer["conversation"]["id"]
        await self.call("POST", f"/api/conversations/{conversation_id}/accept")
        return conversation_id

    async def reply(self, conversation_id: str, text: str, private: bool = False) -> dict[str, Any]:
        data = await self.call("POST", f"/api/conversations/{conversation_id}/messages",
                               {"text": text, "private": private})
        return data["message"]  # type: ignore[no-any-return]

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        await self.session.close()


async def next_frame(ws: aiohttp.ClientWebSocketResponse, kind: str | None, timeout: float,
                     match: dict[str, Any] | None = None) -> dict[str, Any]:
    """The next text frame of ``kind`` (any when None) matching ``match``, skipping the others."""
    async with asyncio.timeout(timeout):
        while True:
            msg = await ws.receive()
            if msg.type is not aiohttp.WSMsgType.TEXT:
                raise ConnectionError(f"socket ended: {msg.type} {msg.data}")
            frame = msg.json()
            if (kind is None or frame["type"] == kind) and all(_get(frame, k) == v for k, v in (match or {}).items()):
                return frame  # type: ignore[no-any-return]


def _get(frame: dict[str, Any], dotted: str) -> Any:
    value: Any = frame
    for part in dotted.split("__"):
        value = value.get(part) if isinstance(value, dict) else None
    return value
