"""The HTTP edge under hostile clients: bodies that break JSON parsers, forged log lines, slow
request heads (slowloris) and a Server header that names no version."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import aiohttp
import pytest
from redis.asyncio import Redis

from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.config import HttpSettings
from tests.clients import WidgetClient
from tests.conftest import make_settings

HEAD_TIMEOUT_S = 1.0


@pytest.fixture
async def strict_hub(db_name: str, mongo_url: str, redis_url: str, redis: Redis) -> AsyncIterator[RunningHub]:
    """A hub whose head deadline is short enough to wait for in a test."""
    settings = make_settings(db_name).model_copy(update={
        "http": HttpSettings(host="127.0.0.1", port=0, header_timeout_s=HEAD_TIMEOUT_S)})
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as running:
        await load_demo(running.context.directory)
        yield running


async def raw_connection(hub: RunningHub) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    url = urlsplit(hub.base_url)
    return await asyncio.open_connection(url.hostname, url.port)


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info or r.exc_text or "Traceback" in r.getMessage()]


# -- bodies ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", [
    b"[" * 20_000 + b"]" * 20_000,
    b'{"username": ' + b"[" * 5000 + b"]" * 5000 + b', "password": "x"}',
    b'{"username": "alice", "password": ' + b"7" * 5000 + b"}",
    b'{"username": "alice", "password": "x", "n": ' + b"1" * 4301 + b"}",
], ids=["nested", "nested-field", "huge-int", "huge-int-extra"])
async def test_login_bodies_that_break_the_json_parser_answer_400_without_a_traceback(
        hub: RunningHub, raw: bytes, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with aiohttp.ClientSession() as http, http.post(
            hub.base_url + "/api/login", data=raw, headers={"Content-Type": "application/json"}) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["code"] == "bad_json"
    assert tracebacks(caplog) == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_login_text_that_is_not_unicode_answers_400_naming_the_field(hub: RunningHub) -> None:
    raw = b'{"username": "al\\ud800ice", "password": "long-enough-pw"}'  # a lone surrogate, JSON-escaped
    async with aiohttp.ClientSession() as http, http.post(
            hub.base_url + "/api/login", data=raw, headers={"Content-Type": "application/json"}) as resp:
        assert resp.status == 400
        error = (await resp.json())["error"]
    assert error["code"] == "invalid_text" and error["message"].startswith("username")


# -- the access log ----------------------------------------------------------------------------------
async def test_a_newline_in_the_path_cannot_forge_a_log_line(hub: RunningHub, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    forged = "/nowhere%0A2030-01-01 INFO aiohttp.access GET /api/admin 200 0 0.001%0D%09%E2%80%A8"
    async with aiohttp.ClientSession() as http, http.get(hub.base_url + forged) as resp:
        assert resp.status == 404
    async with aiohttp.ClientSession() as http, http.get(hub.base_url + "/healthz") as resp:
        assert resp.status == 200  # the access log is written after the response: this one comes later
    access = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    (line,) = [message for message in access if "nowhere" in message]
    assert line.startswith("GET /nowhere\\n2030-01-01\\x20INFO") and "\\r\\t\\u2028 404 " in line
    assert all("\n" not in m and "\r" not in m and "\u2028" not in m for m in access)
    assert not [m for m in caplog.text.splitlines() if m.startswith("2030")]


# -- slow clients ------------------------------------------------------------------------------------
async def closed_by_the_hub(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, within_s: float) -> bool:
    """Trickle one header byte after another, as a slowloris does, until the hub closes the socket."""
    deadline = asyncio.get_running_loop().time() + within_s
    while asyncio.get_running_loop().time() < deadline:
        with contextlib.suppress(TimeoutError):
            if await asyncio.wait_for(reader.read(1024), timeout=0.2) == b"":
                return True
        try:
            writer.write(b"x")
            await writer.drain()
        except ConnectionError:
            return True
    return False


async def test_a_slow_request_head_is_closed_after_the_header_timeout_and_websockets_stay(
        strict_hub: RunningHub, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with aiohttp.ClientSession() as http:
        widget = WidgetClient(strict_hub.base_url, http)
        await widget.connect()  # upgraded before the slow clients start: never cut by the deadline

        slow_first = await raw_connection(strict_hub)
        slow_first[1].write(b"GET /console/login HTTP/1.1\r\nHost: hub\r\nX-Slow: ")
        assert await closed_by_the_hub(*slow_first, within_s=30), "a slow first head must be cut"

        kept = await raw_connection(strict_hub)  # a kept-alive connection: its second head is slow
        kept[1].write(b"GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n")
        assert (await kept[0].readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
        kept[1].write(b"GET /healthz HTTP/1.1\r\nX-Slow: ")
        assert await closed_by_the_hub(*kept, within_s=30), "a slow later head must be cut"

        silent_reader, silent_writer = await raw_connection(strict_hub)  # connects and says nothing
        assert await asyncio.wait_for(silent_reader.read(), timeout=30) == b""
        for _, writer in (slow_first, kept, (silent_reader, silent_writer)):
            writer.close()

        assert (await widget.say("still here after the slow clients"))["status"] == "sent"
        await widget.close()
    assert any(r.getMessage().startswith("http.head.timeout") for r in caplog.records)


# -- the Server header -------------------------------------------------------------------------------
async def test_the_server_header_names_no_version(hub: RunningHub) -> None:
    async with aiohttp.ClientSession() as http:
        for path in ("/console/login", "/console/static/console.css", "/webchat/widget.js", "/no/such/page",
                     "/api/me", "/healthz"):
            async with http.get(hub.base_url + path) as resp:
                assert resp.headers["Server"] == "northgrid-hub", path
        async with http.post(hub.base_url + "/api/login", data=b"{", headers={"Content-Type": "application/json"}) \
                as resp:
            assert resp.status == 400 and resp.headers["Server"] == "northgrid-hub"
        ws_url = hub.base_url.replace("http", "ws", 1) + "/webchat/ws"
        async with http.ws_connect(ws_url) as ws:
            assert ws._response.headers["Server"] == "northgrid-hub"
    reader, writer = await raw_connection(hub)  # a request aiohttp cannot parse never reaches the app
    writer.write(b"GET /\x01 HTTP/1.1\r\nHost: hub\r\n\r\n")
    head = (await asyncio.wait_for(reader.read(), timeout=10)).split(b"\r\n\r\n")[0].decode()
    writer.close()
    assert head.startswith(("HTTP/1.0 400", "HTTP/1.1 400"))
    assert "Server: northgrid-hub" in head.split("\r\n") and "aiohttp" not in head
