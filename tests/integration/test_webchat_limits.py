"""What one widget connection and one client address may create: visitor identities and
conversations are capped per connection and limited per address (behind a trusted proxy, the
address it forwarded), so one socket cannot flood the agents' queue."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.config import HttpSettings, WebChatSettings
from hub.storage.database import Db
from tests.clients import next_frame
from tests.conftest import make_settings


@pytest.fixture
async def limited_hub(request: pytest.FixtureRequest, db_name: str, mongo_url: str, redis_url: str,
                      redis: Redis) -> AsyncIterator[RunningHub]:
    options: dict[str, Any] = getattr(request, "param", {})
    base = make_settings(db_name)
    settings = base.model_copy(update={
        "webchat": WebChatSettings(**options.get("webchat", {})),
        "http": HttpSettings(host="127.0.0.1", port=0, trusted_proxies=options.get("trusted_proxies", []))})
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as running:
        await load_demo(running.context.directory)
        yield running


async def _socket(http: aiohttp.ClientSession, hub: RunningHub, forwarded_for: str | None = None
                  ) -> aiohttp.ClientWebSocketResponse:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return await http.ws_connect(hub.base_url.replace("http", "ws", 1) + "/webchat/ws", headers=headers)


async def _hello(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    """The answer to a hello as a new visitor: ``welcome`` or an ``error``."""
    await ws.send_json({"type": "hello", "visitor": None})
    return await next_frame(ws, None, 10.0)


async def _closed_with(ws: aiohttp.ClientWebSocketResponse) -> int | None:
    msg = await ws.receive(timeout=10)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), msg
    return ws.close_code


async def test_one_connection_gets_a_few_identities_then_is_closed(limited_hub: RunningHub, db: Db) -> None:
    """The attack: ``hello`` with ``visitor: null`` again and again on one socket, each followed
    by a first message, opened a new identity and conversation every time (137 in 20 s)."""
    async with aiohttp.ClientSession() as http:
        ws = await _socket(http, limited_hub)
        answers = []
        for _ in range(6):
            frame = await _hello(ws)
            answers.append(frame["type"] if frame["type"] == "welcome" else frame["code"])
            if frame["type"] != "welcome":
                break
            await ws.send_json({"type": "message", "client_id": uuid.uuid4().hex, "text": "hello"})
            assert (await next_frame(ws, "ack", 10.0))["type"] == "ack"
        assert answers == ["welcome"] * 3 + ["too_many_identities"]
        assert await _closed_with(ws) == aiohttp.WSCloseCode.POLICY_VIOLATION
    assert await db["conversations"].count_documents({}) == 3


@pytest.mark.parametrize("limited_hub", [{"webchat": {"identities_burst": 3, "identities_per_minute": 0.01}}],
                         indirect=True)
async def test_new_identities_per_client_address_are_limited(limited_hub: RunningHub) -> None:
    async with aiohttp.ClientSession() as http:
        welcomes = [await _hello(await _socket(http, limited_hub)) for _ in range(3)]
        assert [w["type"] for w in welcomes] == ["welcome"] * 3
        ws = await _socket(http, limited_hub)
        refused = await _hello(ws)
        assert refused["code"] == "rate_limited" and refused["retry_after_ms"] > 1000
        assert await _closed_with(ws) == aiohttp.WSCloseCode.TRY_AGAIN_LATER
        # A returning visitor (a valid token) is no new identity: still welcome from that address.
        ws = await _socket(http, limited_hub)
        await ws.send_json({"type": "hello", "visitor": welcomes[0]["visitor"]})
        assert (await next_frame(ws, None, 10.0))["type"] == "welcome"


@pytest.mark.parametrize("limited_hub", [{"webchat": {"conversations_burst": 2, "conversations_per_minute": 0.01}}],
                         indirect=True)
async def test_new_conversations_per_client_address_are_limited_and_the_message_is_not_lost(
        limited_hub: RunningHub, db: Db) -> None:
    async with aiohttp.ClientSession() as http:
        for n in range(2):
            ws = await _socket(http, limited_hub)
            assert (await _hello(ws))["type"] == "welcome"
            await ws.send_json({"type": "message", "client_id": f"first{n:08d}", "text": "a question"})
            assert (await next_frame(ws, "ack", 10.0))["client_id"] == f"first{n:08d}"
        ws = await _socket(http, limited_hub)
        assert (await _hello(ws))["type"] == "welcome"
        await ws.send_json({"type": "message", "client_id": "third0000000", "text": "a question"})
        refused = await next_frame(ws, None, 10.0)
        assert refused["code"] == "rate_limited"
        # The widget keeps the message and sends it again after retry_after_ms (widget.js resendLater).
        assert refused["client_id"] == "third0000000" and refused["retry_after_ms"] > 1000
        assert not ws.closed, "a refused conversation does not end the connection"
    assert await db["conversations"].count_documents({}) == 2
    assert await db["messages"].count_documents({"inbound": True}) == 2


@pytest.mark.parametrize("limited_hub", [{"trusted_proxies": ["127.0.0.1"],
                                          "webchat": {"identities_burst": 2, "identities_per_minute": 0.01}}],
                         indirect=True)
async def test_behind_a_trusted_proxy_the_forwarded_address_counts(limited_hub: RunningHub) -> None:
    async with aiohttp.ClientSession() as http:
        async def answer(forwarded_for: str) -> str:
            frame = await _hello(await _socket(http, limited_hub, forwarded_for))
            return str(frame["type"] if frame["type"] == "welcome" else frame["code"])

        assert [await answer("203.0.113.1") for _ in range(2)] == ["welcome", "welcome"]
        assert await answer("203.0.113.1") == "rate_limited"
        assert await answer("203.0.113.2") == "welcome", "another customer behind the same proxy"
        # What a client writes into the header itself (left of what the proxy appended) is ignored.
        assert await answer("198.51.100.7, 203.0.113.1") == "rate_limited"


@pytest.mark.parametrize("limited_hub", [{"webchat": {"identities_burst": 2, "identities_per_minute": 0.01}}],
                         indirect=True)
async def test_without_a_trusted_proxy_a_forwarded_header_changes_nothing(limited_hub: RunningHub) -> None:
    async with aiohttp.ClientSession() as http:
        answers = []
        for n in range(3):
            frame = await _hello(await _socket(http, limited_hub, f"203.0.113.{n + 1}"))
            answers.append(frame["type"] if frame["type"] == "welcome" else frame["code"])
        assert answers == ["welcome", "welcome", "rate_limited"]


@pytest.mark.parametrize("limited_hub", [{"webchat": {"frames_burst": 8, "frames_per_second": 0.01}}],
                         indirect=True)
async def test_a_socket_sending_garbage_as_fast_as_it_can_is_closed(limited_hub: RunningHub) -> None:
    """Refused frames cost the hub too: the lone-surrogate attacker got 7,000 refusals a second."""
    async with aiohttp.ClientSession() as http:
        ws = await _socket(http, limited_hub)
        codes = []
        for _ in range(12):
            if ws.closed:
                break
            await ws.send_str('{"type":"message","client_id":"abcdefgh0001","text":"x \\ud800"}')
            msg = await ws.receive(timeout=10)
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            codes.append(msg.json()["code"])
        assert codes == ["invalid_text"] * 8 + ["too_many_frames"]
        assert await _closed_with(ws) == aiohttp.WSCloseCode.POLICY_VIOLATION


@pytest.mark.parametrize("limited_hub", [{"webchat": {"connections_burst": 3, "connections_per_minute": 0.01}}],
                         indirect=True)
async def test_connections_per_client_address_are_limited_before_the_upgrade(limited_hub: RunningHub) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(3):
            await _socket(http, limited_hub)
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await _socket(http, limited_hub)
        assert refused.value.status == 429
        assert int(refused.value.headers["Retry-After"]) >= 1  # type: ignore[index]
