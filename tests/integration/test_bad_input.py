"""Bad input gets a clear error and the process keeps serving: widget frames and console calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
import pytest

from hub.bootstrap import RunningHub
from hub.storage.database import Db
from tests.clients import AgentClient, WidgetClient


async def still_serving(hub: RunningHub, http: aiohttp.ClientSession) -> None:
    widget = WidgetClient(hub.base_url, http)
    await widget.connect()
    stored = await widget.say("still there?")
    assert stored["status"] == "sent"


@pytest.mark.parametrize(("frame", "code"), [
    ("not json", "bad_json"),
    ("[" * 3000 + "]" * 3000, "bad_json"),
    ('{"type": "typing", "n": 1' + "0" * 5000 + "}", "bad_json"),
    ("[1, 2]", "bad_frame"),
    ('{"type": "launch_missiles"}', "bad_frame"),
    ('{"type": "message", "client_id": "x", "text": "hi"}', "bad_frame"),
    ('{"type": "message", "client_id": "abcdefgh1234", "text": "   "}', "bad_frame"),
    ('{"type": "message", "client_id": "abcdefgh1234", "text": 42}', "bad_frame"),
    ('{"type": "read", "message_ids": "m_1"}', "bad_frame"),
])
async def test_malformed_frames_get_an_error_and_the_socket_stays_open(
        hub: RunningHub, frame: str, code: str) -> None:
    async with aiohttp.ClientSession() as http:
        widget = WidgetClient(hub.base_url, http)
        await widget.connect()
        await widget.ws.send_str(frame)  # type: ignore[union-attr]
        error = await widget.next("error")
        assert error["code"] == code and error["message"]
        assert (await widget.say("after the bad frame"))["text"] == "after the bad frame"


async def test_text_over_the_limit_is_refused_and_nothing_is_stored(hub: RunningHub) -> None:
    async with aiohttp.ClientSession() as http:
        widget = WidgetClient(hub.base_url, http)
        await widget.connect()
        await widget.send("电" * 4001)
        assert (await widget.next("error"))["code"] == "too_long"
        assert (await widget.say("电" * 4000))["text"] == "电" * 4000


async def test_message_before_hello_is_refused(hub: RunningHub) -> None:
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(hub.base_url.replace("http", "ws") + "/webchat/ws")
        await ws.send_json({"type": "message", "client_id": "abcdefgh1234", "text": "hi"})
        assert (await ws.receive_json())["code"] == "hello_required"
        await ws.send_bytes(b"\x00\x01")
        assert (await ws.receive_json())["code"] == "bad_frame"
        await ws.close()
        await still_serving(hub, http)


async def test_forged_visitor_gets_a_new_identity_not_the_victims_conversation(hub: RunningHub) -> None:
    async with aiohttp.ClientSession() as http:
        victim = WidgetClient(hub.base_url, http)
        await victim.connect()
        await victim.say("my account number is 1234567890")
        attacker = WidgetClient(hub.base_url, http)
        attacker.visitor = {"id": victim.visitor["id"], "token": "0" * 64}  # type: ignore[index]
        ws = await http.ws_connect(hub.base_url.replace("http", "ws") + "/webchat/ws")
        await ws.send_json({"type": "hello", "visitor": attacker.visitor, "since": None})
        assert (await ws.receive_json())["code"] == "bad_visitor"
        welcome = await ws.receive_json()
        assert welcome["type"] == "welcome"
        assert welcome["visitor"]["id"] != victim.visitor["id"]  # type: ignore[index]
        assert welcome["history"] == [] and welcome["conversation_id"] is None
        await ws.close()


@pytest.mark.parametrize(("send", "close_code"), [
    (lambda ws: ws.send_str('{"type":"message","client_id":"abcdefgh1234","text":"' + "a" * 20000 + '"}'),
     aiohttp.WSCloseCode.MESSAGE_TOO_BIG),
    (lambda ws: ws.send_frame(b'{"type":"typing","x":"\xff\xfe"}', aiohttp.WSMsgType.TEXT),
     aiohttp.WSCloseCode.INVALID_TEXT),
], ids=["oversized", "invalid-utf8"])
async def test_frames_that_break_the_protocol_close_that_socket_only(
        hub: RunningHub, send: Callable[[aiohttp.ClientWebSocketResponse], Awaitable[None]],
        close_code: aiohttp.WSCloseCode) -> None:
    async with aiohttp.ClientSession() as http:
        widget = WidgetClient(hub.base_url, http)
        await widget.connect()
        assert widget.ws is not None
        await send(widget.ws)
        msg = await widget.ws.receive()
        assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == close_code
        await still_serving(hub, http)


async def test_flooding_customer_is_rate_limited(hub: RunningHub) -> None:
    async with aiohttp.ClientSession() as http:
        widget = WidgetClient(hub.base_url, http)
        await widget.connect()
        codes = []
        for i in range(15):
            await widget.send(f"spam {i}")
            frame = await widget.next()
            while frame["type"] not in ("ack", "error"):
                frame = await widget.next()
            codes.append(frame.get("code", "ack"))
        assert codes[:10] == ["ack"] * 10 and "rate_limited" in codes[10:]


# -- console -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/inbox"), ("GET", "/api/me"), ("POST", "/api/me/status"),
    ("GET", "/api/conversations/c_x"), ("POST", "/api/conversations/c_x/messages"),
    ("GET", "/api/supervisor/overview"),
])
async def test_unauthenticated_calls_get_401(hub: RunningHub, method: str, path: str) -> None:
    async with aiohttp.ClientSession() as http, http.request(method, hub.base_url + path, json={}) as resp:
        assert resp.status == 401
        assert (await resp.json())["error"]["code"] == "unauthenticated"


async def test_console_refuses_bad_requests_clearly(hub: RunningHub) -> None:
    agent = await AgentClient(hub.base_url).login("alice")
    try:
        await agent.call("POST", "/api/login", {"username": "alice", "password": "wrong"}, expect=401)
        await agent.call("GET", "/api/conversations/c_doesnotexist", expect=404)
        await agent.call("POST", "/api/me/status", {"status": "sleeping"}, expect=400)
        await agent.call("POST", "/api/conversations/c_doesnotexist/messages", {"text": ""}, expect=400)
        await agent.call("GET", "/api/supervisor/overview", expect=403)
        url = hub.base_url + "/api/me/status"
        headers = {"X-CSRF-Token": agent.csrf, "Content-Type": "application/json"}
        async with agent.session.post(url, data=b'{"status": "\xff"}', headers=headers) as resp:
            assert resp.status == 400 and (await resp.json())["error"]["code"] == "bad_json"
        async with agent.session.post(url, data=b"{" * 70_000, headers=headers) as resp:
            assert resp.status == 413
        async with agent.session.post(url, json={"status": "away"}) as resp:  # no CSRF header
            assert resp.status == 403 and (await resp.json())["error"]["code"] == "csrf"
        async with agent.session.post(url, json={"status": "away"},
                                      headers={"X-CSRF-Token": "forged"}) as resp:
            assert resp.status == 403
        assert (await agent.call("GET", "/api/me"))["agent"]["username"] == "alice"
    finally:
        await agent.close()


async def test_console_socket_refuses_foreign_origin_and_anonymous(hub: RunningHub) -> None:
    agent = await AgentClient(hub.base_url).login("alice")
    try:
        url = hub.base_url.replace("http", "ws") + "/console/ws"
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await agent.session.ws_connect(url, origin="https://evil.example")
        assert refused.value.status == 403
        async with aiohttp.ClientSession() as anonymous:
            with pytest.raises(aiohttp.WSServerHandshakeError) as anon:
                await anonymous.ws_connect(url)
            assert anon.value.status == 401
    finally:
        await agent.close()


async def test_logout_ends_the_session(hub: RunningHub) -> None:
    agent = await AgentClient(hub.base_url).login("alice")
    try:
        await agent.call("POST", "/api/logout")
        await agent.call("GET", "/api/me", expect=401)
    finally:
        await agent.close()


async def test_health_probes(hub: RunningHub) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(hub.base_url + "/healthz") as resp:
            assert resp.status == 200
        async with http.get(hub.base_url + "/readyz") as resp:
            assert resp.status == 200
            assert (await resp.json())["checks"] == {"mongo": "ok", "redis": "ok", "bus": "ok"}


OFFLINE_FORM = {"name": "Ann", "email": "ann@example.com", "message": "Please call me back"}
BAD_FORMS: list[tuple[object, int, str]] = [
    ("not json", 400, "bad_json"),
    ('{"name": "Ann", "email": "ann@example.com", "message": "\\ud800"}', 400, "invalid_text"),
    ({**OFFLINE_FORM, "message": ""}, 400, "invalid_input"),
    ({**OFFLINE_FORM, "message": "x" * 2001}, 400, "invalid_input"),
    ({"name": "Ann", "message": "no way back"}, 400, "invalid_input"),
    ({**OFFLINE_FORM, "email": "<script>@x"}, 400, "invalid_input"),
    ({**OFFLINE_FORM, "phone": "call me maybe"}, 400, "invalid_input"),
    ({**OFFLINE_FORM, "admin": True}, 400, "invalid_input"),
    ({**OFFLINE_FORM, "queue": "../etc"}, 400, "invalid_input"),
    ({**OFFLINE_FORM, "queue": "nosuchqueue"}, 404, "not_found"),
    ("{" + " " * 9000 + "}", 413, "too_large"),
]


async def test_the_offline_form_refuses_bad_input_and_a_flood(hub: RunningHub, db: Db) -> None:
    """Each bad form gets its clear 4xx and stores nothing; HTML forms (cross-site) are refused; a
    flood of good forms is limited per client address; the availability question checks its queue."""
    async with aiohttp.ClientSession() as http:
        url = hub.base_url + "/webchat/offline"
        for body, status, code in BAD_FORMS:
            raw = body if isinstance(body, str) else None
            async with http.post(url, data=raw, json=None if raw else body,
                                 headers={"Content-Type": "application/json"}) as resp:
                assert (resp.status, (await resp.json())["error"]["code"]) == (status, code), body
        assert await db["conversations"].count_documents({}) == 0
        async with http.post(url, data={"name": "Ann", "message": "hi"}) as resp:  # a cross-site HTML form
            assert resp.status == 415
        statuses = []
        for _ in range(6):
            async with http.post(url, json=OFFLINE_FORM) as resp:
                statuses.append(resp.status)
        assert statuses[0] == 201 and statuses[-1] == 429, statuses
        assert await db["conversations"].count_documents({}) == 1  # one contact, one open conversation
        async with http.get(hub.base_url + "/webchat/availability", params={"queue": "<b>"}) as resp:
            assert resp.status == 400
        async with http.get(hub.base_url + "/webchat/availability") as resp:
            assert await resp.json() == {"queue": "general", "open": True, "agents_available": False,
                                         "opens_at": None}
        await still_serving(hub, http)
