"""Hostile input against a running hub (real SecantusDB and Redis, the Telegram stand-in): every
inbound endpoint answers a clear 4xx or an error frame (never a 5xx, never a dropped socket but
the documented close codes), a refused input stores nothing, nothing is ever stored half, and
the hub still serves a normal request afterwards."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import SecretStr
from redis.asyncio import Redis

from console.ws import MAX_FRAME
from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.config import LoginSettings, SmsSettings, WebChatSettings
from hub.storage.database import Db
from tests.clients import AgentClient, WidgetClient
from tests.conftest import eventually, make_settings
from tests.contract.harness_telegram import WEBHOOK_SECRET, telegram_settings, wait_until_receiving
from tests.fuzz.profile import fuzz
from tests.fuzz.strategies import (
    console_bodies,
    document,
    hostile_text,
    replies,
    sms_queries,
    telegram_bodies,
    widget_frames,
)
from tests.standins.telegram_bot_api import BotApiStandIn

SMS_SECRET = "fuzz-kannel-secret-0123456789"
COLLECTIONS = ("contacts", "conversations", "messages", "events")
FRAME_CODES = {"bad_json", "bad_frame", "invalid_text", "too_long", "bad_visitor"}
# aiohttp's documented closes for protocol violations: invalid UTF-8 in a text frame, a frame over the limit.
PROTOCOL_CLOSES = {aiohttp.WSCloseCode.INVALID_TEXT, aiohttp.WSCloseCode.MESSAGE_TOO_BIG}
BARRIER = '{"type":"fuzz-barrier"}'  # refused with an error frame, stores nothing: marks the end of an answer


@pytest.fixture
async def standin() -> AsyncIterator[BotApiStandIn]:
    async with BotApiStandIn() as running:
        yield running


@pytest.fixture
async def hub(standin: BotApiStandIn, db_name: str, mongo_url: str, redis_url: str,
              redis: Redis) -> AsyncIterator[RunningHub]:
    """Every inbound channel on one hub: web chat, SMS (the MO/DLR endpoints; nothing listens for
    replies), Telegram in webhook mode; limits raised so the fuzzing measures parsing, not throttling."""
    settings = telegram_settings(make_settings(db_name), standin).model_copy(update={
        "sms": SmsSettings(kannel_url="http://127.0.0.1:9", secret=SecretStr(SMS_SECRET)),
        "webchat": WebChatSettings(rate_per_minute=100_000, identities_burst=100_000, conversations_burst=100_000,
                                   connections_burst=100_000, max_identities_per_connection=1000,
                                   max_conversations_per_connection=1000),
        "login": LoginSettings(account_free_failures=100_000, address_free_failures=100_000),
    })
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as running:
        await load_demo(running.context.directory)
        await wait_until_receiving(standin)
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def alice(hub: RunningHub) -> AsyncIterator[AgentClient]:
    agent = await AgentClient.online(hub.base_url, "alice")
    yield agent
    await agent.close()


async def counts(db: Db) -> dict[str, int]:
    return {name: await db[name].count_documents({}) for name in COLLECTIONS}


async def nothing_half(db: Db) -> None:
    """Every conversation has a message and every message its conversation; every contact of a
    store-and-forward channel (made on its first message) has a conversation."""
    conversations = {doc["_id"] async for doc in db["conversations"].find({}, {"_id": 1})}
    assert conversations == set(await db["messages"].distinct("conversation_id"))
    lonely = await db["contacts"].count_documents({"identities": {"$not": {"$elemMatch": {"$regex": "^webchat:"}}},
                                                   "open_conversation_id": None})
    assert lonely == 0, "a contact was stored without its conversation"


# -- web chat -----------------------------------------------------------------------------------------
WIDGET_INPUT = st.one_of(document(widget_frames()), document(widget_frames()),
                         st.binary(max_size=40).map(lambda b: ("text-bytes", b)),  # often invalid UTF-8
                         st.binary(max_size=40).map(lambda b: ("binary", b)))


async def send(ws: aiohttp.ClientWebSocketResponse, frame: str | tuple[str, bytes]) -> None:
    if isinstance(frame, str):
        await ws.send_str(frame)
    elif frame[0] == "text-bytes":
        await ws.send_frame(frame[1], aiohttp.WSMsgType.TEXT)
    else:
        await ws.send_bytes(frame[1])


async def answer(ws: aiohttp.ClientWebSocketResponse) -> tuple[list[dict[str, Any]], int | None]:
    """The frames up to the barrier's error, or the close code when the hub closed the socket."""
    frames: list[dict[str, Any]] = []
    async with asyncio.timeout(10):
        while True:
            msg = await ws.receive()
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
                return frames, ws.close_code if msg.data is None else msg.data
            frame = msg.json()
            if frame["type"] == "error" and "fuzz-barrier" in frame["message"]:
                return frames, None
            frames.append(frame)


@fuzz(60)
@given(WIDGET_INPUT)
@example('{"type":"message","client_id":"abcdefgh1234","text":"x \\ud800 y"}')
@example(("text-bytes", b'{"type":"typing","x":"\xff"}'))
async def test_widget_frames(hub: RunningHub, db: Db, http: aiohttp.ClientSession,
                             frame: str | tuple[str, bytes]) -> None:
    widget = WidgetClient(hub.base_url, http)
    await widget.connect()
    assert widget.ws is not None
    before = await counts(db)
    await send(widget.ws, frame)
    await widget.ws.send_str(BARRIER)
    frames, closed = await answer(widget.ws)
    await widget.close()
    kinds = [f["type"] for f in frames]
    assert {f["code"] for f in frames if f["type"] == "error"} <= FRAME_CODES, frames
    if closed is not None:
        assert closed in PROTOCOL_CLOSES, closed
    if "ack" not in kinds and "welcome" not in kinds:  # refused (or a typing/receipt frame): nothing stored
        assert await counts(db) == before
    await nothing_half(db)


# -- SMS: Kannel's MO and DLR callbacks -------------------------------------------------------------------
async def raw_get(base_url: str, target: bytes) -> int:
    """One GET with the request target as given, bytes that no HTTP client library would send."""
    url = urllib.parse.urlsplit(base_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        writer.write(b"GET " + target + b" HTTP/1.1\r\nHost: " + url.netloc.encode() + b"\r\nConnection: close\r\n\r\n")
        await writer.drain()
        status_line = await reader.readline()
        await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    return int(status_line.split()[1])


SMS_INPUT = st.tuples(st.sampled_from([b"/channels/sms/mo", b"/channels/sms/mo", b"/channels/sms/dlr"]),
                      sms_queries(SMS_SECRET).map(str.encode), st.binary(max_size=6))


@fuzz(60)
@given(SMS_INPUT)
# Found by the parser fuzzing: a charset whose decoder raises UnicodeError itself answered 500.
@example((b"/channels/sms/mo", f"secret={SMS_SECRET}&from=%2B8613800138000&text=abc&coding=0&charset=undefined"
                               "&id=fz-1".encode(), b""))
async def test_kannel_callbacks(hub: RunningHub, db: Db, request_input: tuple[bytes, bytes, bytes]) -> None:
    path, query, tail = request_input
    before = await counts(db)
    status = await raw_get(hub.base_url, path + b"?" + query + tail)
    assert status in {200, 400, 403, 404, 413, 414, 431}, status
    if status != 200:
        assert await counts(db) == before
    await nothing_half(db)


# -- Telegram: the webhook ------------------------------------------------------------------------------
@fuzz(50)
@given(telegram_bodies())
# Found by the parser fuzzing: a number as text answered 503 (Telegram would redeliver it forever),
# a reply_to_message chain hundreds deep 500.
@example(b'{"update_id":7,"message":{"message_id":1,"date":1,"chat":{"id":5,"type":"private"},'
         b'"from":{"id":5,"is_bot":false,"first_name":"Li"},"text":42}}')
@example(('{"update_id":8,"message":' + json.dumps(replies(600)) + "}").encode())
async def test_telegram_webhook(hub: RunningHub, db: Db, http: aiohttp.ClientSession, body: bytes) -> None:
    before = await counts(db)
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET, "Content-Type": "application/json"}
    async with http.post(f"{hub.base_url}/channels/telegram/webhook", data=body, headers=headers) as response:
        assert response.status in {200, 400, 413}, (response.status, await response.text())
        refused = response.status != 200
    if refused:
        assert await counts(db) == before
    await nothing_half(db)


# -- the console: JSON bodies and the live socket ----------------------------------------------------------
@fuzz(40)
@given(console_bodies({"username": st.sampled_from(["alice", "bob", "nobody"]) | hostile_text(),
                       "password": st.just("northgrid-demo") | hostile_text()}))
async def test_console_login(hub: RunningHub, db: Db, http: aiohttp.ClientSession, body: bytes) -> None:
    sessions = await db["sessions"].count_documents({})
    headers = {"Content-Type": "application/json"}
    async with http.post(f"{hub.base_url}/api/login", data=body, headers=headers) as response:
        assert response.status in {200, 400, 401, 413, 429}, response.status
        if response.status != 200:
            assert (await response.json())["error"]["code"]
            assert await db["sessions"].count_documents({}) == sessions


@pytest.fixture
async def held(hub: RunningHub, alice: AgentClient, http: aiohttp.ClientSession) -> str:
    """A web-chat conversation alice holds (so her replies are accepted)."""
    widget = WidgetClient(hub.base_url, http)
    await widget.connect()
    await widget.say("my bill doubled")
    return await alice.take_offer()


@fuzz(50)
@given(st.sampled_from(["status", "message", "message"]), st.data())
async def test_console_posts(hub: RunningHub, db: Db, alice: AgentClient, held: str, kind: str,
                             data: st.DataObject) -> None:
    if kind == "status":
        path = "/api/me/status"
        body = data.draw(console_bodies({"status": st.sampled_from(["available", "away", "offline", "busy"])}))
    else:
        target = data.draw(st.just(held) | hostile_text(20))
        path = f"/api/conversations/{urllib.parse.quote(target.encode('utf-8', 'surrogatepass'), safe='')}/messages"
        body = data.draw(console_bodies({"text": hostile_text(), "private": st.booleans()}))
    before = await db["messages"].count_documents({})
    headers = {"X-CSRF-Token": alice.csrf, "Content-Type": "application/json"}
    async with alice.session.post(hub.base_url + path, data=body, headers=headers) as response:
        assert response.status in {200, 400, 403, 404, 409, 413}, (response.status, await response.text())
        stored = response.status == 200 and kind == "message"
    assert await db["messages"].count_documents({}) == before + int(stored)
    await nothing_half(db)


@fuzz(30)
@given(console_bodies({"account_number": hostile_text(50), "address": hostile_text(), "meter_id": hostile_text()}))
async def test_contact_attributes(hub: RunningHub, db: Db, alice: AgentClient, held: str, body: bytes) -> None:
    """The contact's customer details (issue 16.5): a refused body changes nothing; what is stored is
    valid Unicode, free of control characters and within the length limits."""
    conversation = await db["conversations"].find_one({"_id": held})
    assert conversation is not None
    contact_id = conversation["contact_id"]
    before = ((await db["contacts"].find_one({"_id": contact_id})) or {}).get("attributes")
    headers = {"X-CSRF-Token": alice.csrf, "Content-Type": "application/json"}
    async with alice.session.patch(f"{hub.base_url}/api/contacts/{contact_id}/attributes", data=body,
                                   headers=headers) as response:
        assert response.status in {200, 400, 413}, (response.status, await response.text())
        changed = response.status == 200
    after = ((await db["contacts"].find_one({"_id": contact_id})) or {}).get("attributes")
    if not changed:
        assert after == before
    for key, value in (after or {}).items():
        assert len(value) <= (300 if key == "address" else 40) and value == value.strip()
        assert all(ch.isprintable() or ch == " " for ch in value), repr(value)
        value.encode("utf-8")  # no lone surrogate


CONSOLE_FRAMES = st.one_of(document(st.fixed_dictionaries({"type": st.just("heartbeat") | hostile_text()})),
                           document(st.just({})), st.binary(max_size=30).map(lambda b: ("text-bytes", b)),
                           st.binary(max_size=30).map(lambda b: ("binary", b)))


@fuzz(40)
@given(CONSOLE_FRAMES)
async def test_console_socket(hub: RunningHub, alice: AgentClient, frame: str | tuple[str, bytes]) -> None:
    ws = await alice.session.ws_connect(hub.base_url.replace("http", "ws", 1) + "/console/ws", origin=hub.base_url)
    try:
        assert (await ws.receive_json())["type"] == "hello"
        await send(ws, frame)
        await ws.send_str("fuzz-barrier: not JSON")  # answered with one bad_json error frame
        errors = 0
        expected = 1 + int(isinstance(frame, str) and not _is_json(frame))
        async with asyncio.timeout(10):
            while errors < expected:
                msg = await ws.receive()
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
                    oversized = isinstance(frame, str) and len(frame.encode('utf-8', 'surrogatepass')) > MAX_FRAME
                    assert msg.data in PROTOCOL_CLOSES and (oversized or not isinstance(frame, str)), msg
                    break
                reply = msg.json()
                if reply["type"] == "error":
                    assert reply["code"] == "bad_json"
                    errors += 1
    finally:
        await ws.close()


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


# -- and afterwards the hub still serves ---------------------------------------------------------------------
@pytest.fixture(autouse=True)
async def still_serving(hub: RunningHub, standin: BotApiStandIn, db: Db) -> AsyncIterator[None]:
    """After each fuzz test: a customer on each channel is stored, an agent's console answers."""
    yield
    async with aiohttp.ClientSession() as http:
        widget = WidgetClient(hub.base_url, http)
        await widget.connect()
        assert (await widget.say("still there?"))["text"] == "still there?"
        await widget.close()
    query = f"secret={SMS_SECRET}&from=%2B8613912345678&to=10086&text=hello&coding=0&charset=UTF-8&id=after-1"
    assert await raw_get(hub.base_url, f"/channels/sms/mo?{query}".encode()) == 200
    user = standin.user()
    await standin.send_text(user, "still there?")
    await eventually(lambda: db["messages"].count_documents({"channel": "telegram", "text": "still there?"}))
    agent = await AgentClient(hub.base_url).login("bob")
    try:
        assert (await agent.call("GET", "/api/me"))["agent"]["username"] == "bob"
    finally:
        await agent.close()
    await nothing_half(db)
