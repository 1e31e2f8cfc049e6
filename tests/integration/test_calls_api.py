"""The call in the console over real HTTP and the console socket (console/calls_api.py, console/live.py).

The hub runs without a PBX (voice off): the call is made through the real core port
(``context.calls``, what the voice line reports), routed by the real ACD to Alice's console, and
her phone's answer, hold and hang-up are reported the way the line reports them. The recordings
are real wav files in the configured ``recordings_dir``.
"""

from __future__ import annotations

import io
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from yarl import URL

from hub.bootstrap import RunningHub
from hub.config import Settings, VoiceSettings
from hub.domain.calls import Party
from tests.clients import AgentClient
from tests.integration.test_contacts import inbound

CALLER = "+8613800138000"
CALL_ID = "1733240000.17"
REC = f"{CALL_ID}-1"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"voice": VoiceSettings(recordings_dir=tmp_path)})


@pytest.fixture
async def staff(hub: RunningHub) -> AsyncIterator[dict[str, AgentClient]]:
    logged = {name: await AgentClient(hub.base_url).login(name) for name in ("alice", "bob", "sara", "tom")}
    yield logged
    for client in logged.values():
        await client.close()


def wav(seconds: float, rate: int = 8000) -> bytes:
    """A real 16-bit mono wav of a 440 Hz square-ish tone."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join((8000 if (i // 9) % 2 else -8000).to_bytes(2, "little", signed=True)
                               for i in range(int(seconds * rate))))
    return out.getvalue()


async def call_answered_by_alice(hub: RunningHub, staff: dict[str, AgentClient]) -> str:
    """A caller chooses billing; the ACD offers the call to Alice (the only one available), her
    phone rings and she answers. Returns the conversation id."""
    alice = staff["alice"]
    await alice.connect()
    await alice.available()
    calls = hub.context.calls
    conversation = await calls.arrived(call_id=CALL_ID, caller=CALLER, caller_channel="PJSIP/callers-00000001",
                                       choice="1", queue_id="billing")
    assert conversation.channel == "voice"
    offer = await alice.next("offer", conversation__id=conversation.id)
    assert offer["conversation"]["channel"] == "voice"
    # A call is taken by answering the phone, not in the console (her phone is about to ring).
    refused = await alice.call("POST", f"/api/conversations/{conversation.id}/accept", expect=409)
    assert refused["error"]["code"] == "answer_the_phone", refused
    await calls.ringing(CALL_ID, alice.agent["id"], "hub-leg-1")
    ringing = await alice.next("call", conversation_id=conversation.id)
    assert ringing["event"] == "ringing" and "caller" not in ringing
    await calls.answered(CALL_ID, alice.agent["id"], "hub-leg-1", recording=REC)
    assert (await alice.next("call", conversation_id=conversation.id))["event"] == "answered"
    return conversation.id


async def get(client: AgentClient, path: str, headers: dict[str, str] | None = None,
              encoded: bool = False) -> tuple[int, dict[str, str], bytes]:
    url = URL(client.base_url + path, encoded=encoded)
    async with client.session.get(url, headers=headers or {}) as resp:
        return resp.status, dict(resp.headers), await resp.read()


async def test_the_call_live_as_json_and_frames_to_those_who_may_see_it(
        hub: RunningHub, staff: dict[str, AgentClient]) -> None:
    alice, bob, sara, tom = staff["alice"], staff["bob"], staff["sara"], staff["tom"]
    await sara.connect()
    await bob.connect()
    cid = await call_answered_by_alice(hub, staff)
    path = f"/api/conversations/{cid}/call"

    talking = (await alice.call("GET", path))["call"]
    assert talking["state"] == "talking" and talking["caller"] == CALLER and talking["choice"] == "1"
    assert talking["queue"] == "billing" and talking["agent"] == {"id": alice.agent["id"],
                                                                   "display_name": "Alice Wang"}
    assert talking["call_id"] == CALL_ID and talking["answered_at"] and talking["ended_at"] is None
    assert talking["durations"]["talk_s"] is not None and talking["durations"]["wait_s"] >= 0

    await hub.context.calls.held(CALL_ID, True)
    assert (await alice.next("call", conversation_id=cid))["event"] == "held"
    assert (await alice.call("GET", path))["call"]["state"] == "held"
    await hub.context.calls.held(CALL_ID, False)
    assert (await alice.next("call", conversation_id=cid))["event"] == "resumed"
    await hub.context.calls.hung_up(CALL_ID, Party.CALLER)
    ended_frame = await alice.next("call", conversation_id=cid, event="ended")
    assert ended_frame["by"] == "caller" and ended_frame["talk_s"] >= 0

    ended = (await alice.call("GET", path))["call"]
    assert ended["state"] == "ended" and ended["ended_by"] == "caller" and ended["durations"]["hold_s"] > 0
    assert [s["step"] for s in ended["steps"]] == ["arrived", "menu", "ringing", "answered", "held", "resumed",
                                                   "hung_up"]
    assert ended["steps"][2]["agent_name"] == "Alice Wang" and ended["steps"][-1]["detail"] == {"by": "caller"}
    assert (await hub.context.conversations.get_doc(cid))["state"] == "wrap_up"

    # The supervisor saw the same frames; Bob (no billing skill, not his call) and Tom see nothing.
    for event in ("ringing", "answered", "held", "resumed", "ended"):
        await sara.next("call", conversation_id=cid, event=event)
    assert (await sara.call("GET", path))["call"]["caller"] == CALLER
    await bob.call("GET", path, expect=403)
    await tom.call("GET", path, expect=403)
    # A frame Bob does get, published after the call's: none of the call's came before it.
    later = await inbound(hub, "sms", "+8613900139000", "is my power back?")
    while (frame := await bob.next())["type"] != "conversation" or frame["conversation"]["id"] != later.conversation.id:
        assert frame["type"] != "call", frame

    async with aiohttp.ClientSession() as anonymous, anonymous.get(hub.base_url + path) as resp:
        assert resp.status == 401
    await sara.call("GET", f"/api/conversations/{later.conversation.id}/call", expect=404)  # no call: an SMS
    await sara.call("GET", "/api/conversations/c_nope/call", expect=404)


async def test_a_waiting_call_shows_to_skilled_agents_without_recordings(
        hub: RunningHub, staff: dict[str, AgentClient]) -> None:
    bob, alice = staff["bob"], staff["alice"]
    conversation = await hub.context.calls.arrived(call_id="1733240001.5", caller=CALLER,
                                                   caller_channel="PJSIP/callers-00000002", choice=None,
                                                   queue_id="general")
    waiting = (await bob.call("GET", f"/api/conversations/{conversation.id}/call"))["call"]
    assert waiting["state"] == "waiting" and waiting["agent"] is None and waiting["recordings"] == []
    assert waiting["choice"] is None and waiting["queue"] == "general" and waiting["ended_by"] is None
    assert (await alice.call("GET", f"/api/conversations/{conversation.id}/call"))["call"]["state"] == "waiting"
    await staff["tom"].call("GET", f"/api/conversations/{conversation.id}/call", expect=403)


async def test_recordings_stream_with_ranges_only_for_the_calls_own_files(
        hub: RunningHub, staff: dict[str, AgentClient], tmp_path: Path) -> None:
    alice, bob, sara, tom = staff["alice"], staff["bob"], staff["sara"], staff["tom"]
    cid = await call_answered_by_alice(hub, staff)
    mix, caller = wav(1.0), wav(0.5)
    (tmp_path / f"{REC}.wav").write_bytes(mix)
    (tmp_path / f"{REC}-caller.wav").write_bytes(caller)  # the agent's leg was never written
    (tmp_path / "someone-else.wav").write_bytes(wav(0.1))
    await hub.context.calls.hung_up(CALL_ID, Party.AGENT)

    listed = (await alice.call("GET", f"/api/conversations/{cid}/call"))["call"]["recordings"]
    assert listed == [{"name": REC, "legs": ["mix", "caller"]}]
    assert (await sara.call("GET", f"/api/conversations/{cid}/call"))["call"]["recordings"] == listed

    base = f"/api/conversations/{cid}/recordings"
    status, headers, data = await get(alice, f"{base}/{REC}/mix")
    assert (status, headers["Content-Type"], data) == (200, "audio/wav", mix)
    assert headers.get("Accept-Ranges") == "bytes"
    status, headers, data = await get(sara, f"{base}/{REC}/mix", {"Range": "bytes=100-1099"})
    assert status == 206 and headers["Content-Range"] == f"bytes 100-1099/{len(mix)}" and data == mix[100:1100]
    status, headers, data = await get(alice, f"{base}/{REC}/caller", {"Range": f"bytes={len(caller) - 10}-"})
    assert status == 206 and data == caller[-10:] and headers["Content-Type"] == "audio/wav"

    for name, leg in ((REC, "agent"), (REC, "both"), ("someone-else", "mix"), ("nope", "mix")):
        assert (await get(alice, f"{base}/{name}/{leg}"))[0] == 404, (name, leg)
    for raw in ("..%2F..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "..%2Fsomeone-else", f"..%2F{tmp_path.name}%2F{REC}",
                "%2E%2E", "..", f"{REC}%00"):
        status, _, data = await get(alice, f"{base}/{raw}/mix", encoded=True)
        assert status == 404 and b"RIFF" not in data, raw
    status, _, data = await get(alice, f"{base}/../../../../etc/passwd/mix", encoded=True)
    assert status == 404 and b"root:" not in data

    for other in (bob, tom):
        assert (await get(other, f"{base}/{REC}/mix"))[0] == 403
    async with aiohttp.ClientSession() as anonymous, anonymous.get(f"{hub.base_url}{base}/{REC}/mix") as resp:
        assert resp.status == 401


async def test_controls_need_sight_a_call_and_a_phone_line(hub: RunningHub, staff: dict[str, AgentClient]) -> None:
    alice, bob, tom = staff["alice"], staff["bob"], staff["tom"]
    cid = await call_answered_by_alice(hub, staff)
    assert hub.context.channels.call_control() is None  # voice is off on this hub
    for action, body in (("hold", {}), ("resume", {}), ("hangup", {}), ("transfer", {"queue": "general"})):
        answer: dict[str, Any] = await alice.call("POST", f"/api/conversations/{cid}/call/{action}", body,
                                                  expect=503)
        assert answer["error"]["code"] == "unavailable"
        await bob.call("POST", f"/api/conversations/{cid}/call/{action}", body, expect=403)
        await tom.call("POST", f"/api/conversations/{cid}/call/{action}", body, expect=403)
    await alice.call("POST", f"/api/conversations/{cid}/call/transfer", {}, expect=400)
    async with alice.session.post(f"{hub.base_url}/api/conversations/{cid}/call/hold", json={}) as resp:
        assert resp.status == 403  # no CSRF header
    sms = await inbound(hub, "sms", "+8613900139000", "hello")
    await staff["sara"].call("POST", f"/api/conversations/{sms.conversation.id}/call/hold", {}, expect=404)
    assert (await alice.call("GET", f"/api/conversations/{cid}/call"))["call"]["state"] == "talking"
