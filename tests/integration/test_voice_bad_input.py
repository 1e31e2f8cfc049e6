"""Bad input on the phone line: malformed FastAGI requests, unknown scripts, an AMI peer that sends
garbage or stalls, callers who press nothing or everything. Each gets a clear log line, the call ends
or goes to an agent, and the hub keeps serving."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from hub.embedded import free_port
from hub.storage.database import Db
from tests.conftest import eventually
from tests.integration.test_calls import _state, hub_on
from tests.pbx_rig import running_pbx, test_plan
from voice.agi import AgiError, AgiServer, AgiSession, CallGone, parse_head, parse_reply
from voice.ami import AmiLost, AmiSession


async def _send(port: int, data: bytes, *, read: bool = True) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        if not read:
            return b""
        async with asyncio.timeout(10):
            return await reader.read()  # the server closes: read to EOF
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def agi_server(script: Callable[[AgiSession], Awaitable[None]], timeout_s: float = 1.0) -> AsyncIterator[int]:
    server = AgiServer({"inbound": script}, timeout_s=timeout_s)
    port = await server.start("127.0.0.1", 0)
    try:
        yield port
    finally:
        await server.close()


async def test_malformed_fastagi_requests_are_refused_and_logged_and_the_server_keeps_serving(
        caplog: pytest.LogCaptureFixture) -> None:
    served: list[dict[str, str]] = []

    async def script(session: AgiSession) -> None:
        served.append(dict(session.head))

    caplog.set_level(logging.INFO, logger="voice.agi")
    async with agi_server(script) as port:
        assert await _send(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") == b""  # not AGI: closed, nothing sent
        assert await _send(port, b"\xff\xfe\x00garbage\n\n") == b""
        assert await _send(port, b"".join(b"agi_v%d: x\n" % i for i in range(500)) + b"\n") == b""
        assert await _send(port, b"agi_network_script: inbound\n" + b"agi_x: " + b"y" * 10_000 + b"\n\n") == b""
        assert await _send(port, b"agi_network: yes\nagi_network_script: billing/../../etc\n\n") == b""
        assert await _send(port, b"agi_network: yes\n") == b""  # never finishes: the head timeout closes it
        assert served == []
        # A well-formed request after all that is served.
        await _send(port, b"agi_network: yes\nagi_network_script: inbound?x=1\nagi_uniqueid: 1.2\n\n")
        await eventually(lambda: served, timeout=5)
    assert served[0]["uniqueid"] == "1.2"
    messages = [r.getMessage() for r in caplog.records]
    assert sum("agi.request.refused" in m for m in messages) == 5
    assert any("agi.request.unknown_script script='billing/../../etc'" in m for m in messages)


def test_agi_replies_and_heads_are_parsed_strictly() -> None:
    assert parse_reply("200 result=1 (timeout)").data == "timeout"
    assert parse_reply("200 result= (timeout)").result == ""
    assert parse_reply("200 result=123 endpos=8000").result == "123"
    for dead in ("HANGUP", "200 result=-1", "511 Command Not Permitted on a dead channel"):
        with pytest.raises(CallGone, match=r"hung.up|dead"):
            parse_reply(dead)
    with pytest.raises(AgiError, match="unreadable"):
        parse_reply("<html>")
    with pytest.raises(AgiError, match="not an AGI variable"):
        parse_head(["agi_ok: 1", "Host: example"])


async def test_a_script_that_gets_garbage_answers_ends_the_call_and_logs_it(caplog: pytest.LogCaptureFixture) -> None:
    async def script(session: AgiSession) -> None:
        await session.command("ANSWER")

    caplog.set_level(logging.INFO, logger="voice.agi")
    async with agi_server(script) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"agi_network: yes\nagi_network_script: inbound\n\n")
        assert (await reader.readline()) == b"ANSWER\n"
        writer.write(b"this is not an answer\n")
        await writer.drain()
        assert await reader.read() == b""  # closed
        writer.close()
    assert any("agi.call.failed script=inbound reason=unreadable AGI answer" in r.getMessage()
               for r in caplog.records)


class FakeAmi:
    """An AMI peer that greets like Asterisk, then misbehaves as told."""

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        if self.behaviour == "garbage":
            writer.write(b"\x00\xff{not: ami}\r\n\r\n" * 50 + b"Response\r\n\r\n")
        await writer.drain()
        login = await reader.readuntil(b"\r\n\r\n")
        action_id = next(line.split(b": ", 1)[1] for line in login.split(b"\r\n") if line.startswith(b"ActionID"))
        if self.behaviour == "stall":  # logs in, then never answers again
            writer.write(b"Response: Success\r\nActionID: " + action_id + b"\r\nMessage: Authenticated\r\n\r\n")
            await writer.drain()
        await asyncio.sleep(3600)

    async def __aenter__(self) -> int:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def __aexit__(self, *exc: Any) -> None:
        assert self.server is not None
        for writer in self.writers:
            writer.close()
        self.server.close()


@pytest.mark.parametrize("behaviour", ["garbage", "stall"])
async def test_an_ami_peer_that_sends_garbage_or_stalls_is_lost_in_bounded_time(behaviour: str) -> None:
    async with FakeAmi(behaviour) as port:
        session = AmiSession(host="127.0.0.1", port=port, user="hub", secret="s3cret-s3cret", timeout_s=1.0,
                             ping_s=0.3, events=("Hangup",), on_event=lambda _e: None)
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(AmiLost):
            async with session as ami:
                await ami.watch()  # the login went through (stall): the unanswered Ping ends it
        assert loop.time() - started < 5


async def test_callers_who_press_nothing_or_everything_still_reach_a_queue(
        tmp_path: Path, db_name: str, mongo_url: str, redis_url: str, redis: Redis, db: Db) -> None:
    agi_port = free_port()
    plan = test_plan(agi_port=agi_port, callers=("silent", "eager"))
    async with (running_pbx(plan, tmp_path / "pbx") as pbx,
                hub_on(pbx, agi_port, db_name, mongo_url, redis_url, menu_attempts=2, menu_timeout_s=1.0)):
        silent = await pbx.phones.caller("silent", "silent", "100", hangup_ms=None)
        eager = await pbx.phones.caller("eager", "eager", "100", hangup_ms=None,
                                        dtmf=[(2000 + 150 * i, d) for i, d in enumerate("4#*9123")])
        silent_call = await eventually(lambda: db["calls"].find_one({"caller": "silent"}), timeout=40)
        eager_call = await eventually(lambda: db["calls"].find_one({"caller": "eager"}), timeout=40)
        # The call record is stored just before the conversation is queued: wait for the queueing.
        for call in (silent_call, eager_call):
            await eventually(lambda call=call: _state(db, call["conversation_id"], "queued"), timeout=20)
        # Nothing pressed: after the last prompt, the default queue; everything: the first key ("4").
        assert (await db["conversations"].find_one({"_id": silent_call["conversation_id"]}))["queue"] == "general"
        assert silent_call["choice"] is None
        assert eager_call["choice"] == "4"
        assert (await db["conversations"].find_one({"_id": eager_call["conversation_id"]}))["queue"] == "complaints"
        assert await _state(db, silent_call["conversation_id"], "queued")
        await silent.kill()
        await eager.kill()
