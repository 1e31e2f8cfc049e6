"""Phone calls end to end: a real Asterisk (tests/pbx_rig.py), sipp as the caller and as the agents'
phones, the hub with voice on. The call goes through the menu into our ACD, which rings the agents'
phones; what happens on the phones becomes call steps and conversation transitions."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.config import VoiceSettings
from hub.domain.calls import Party, Step
from hub.embedded import free_port
from hub.storage.contacts import MongoContactStore
from hub.storage.database import Db
from hub.supervisor import LoopState
from tests.bus_gap import deaf_bus
from tests.clients import AgentClient, WidgetClient
from tests.conftest import eventually, make_settings
from tests.pbx_rig import PbxRig, read_wav, running_pbx, test_plan, tone_level, wait_until, wav_complete
from tests.sipp_phones import free_udp_ports
from voice.pbx_config import AgentPhone

CALLER_TONE, AGENT_TONE = 440.0, 1000.0


@dataclass
class VoiceRig:
    pbx: PbxRig
    hub: RunningHub
    phones: dict[str, int]  # agent username -> the UDP port her (sipp) phone listens on
    db_name: str
    mongo_url: str
    redis_url: str


def voice_settings(rig: PbxRig, agi_port: int, **overrides: Any) -> VoiceSettings:
    plan = rig.plan
    values: dict[str, Any] = {"menu_timeout_s": 3.0, "ami_ping_s": 1.0, **overrides}
    return VoiceSettings(ami_port=plan.ports.ami, ami_user=plan.ami_user, ami_secret=plan.ami_secret,
                         agi_port=agi_port, recordings_dir=rig.instance.recordings_dir_host, **values)


@contextlib.asynccontextmanager
async def hub_on(rig: PbxRig, agi_port: int, db_name: str, mongo_url: str, redis_url: str,
                 **voice: Any) -> AsyncIterator[RunningHub]:
    settings = make_settings(db_name, offer_timeout_s=8.0, reoffer_after_s=30.0)
    settings = settings.model_copy(update={"voice": voice_settings(rig, agi_port, **voice)})
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as hub:
        await load_demo(hub.context.directory)
        await eventually(lambda: _line_up(hub), timeout=20)
        yield hub


def _line_up(hub: RunningHub) -> bool:
    return any(s.name == "channels:voice:line" and s.state == LoopState.RUNNING for s in hub.context.probes.loops())


@pytest.fixture
async def voice(tmp_path: Path, db_name: str, mongo_url: str, redis_url: str, redis: Redis) -> AsyncIterator[VoiceRig]:
    agi_port = free_port()
    phones = {"alice": free_udp_ports(), "chen": free_udp_ports()}  # SIP phones listen on UDP
    agents = tuple(AgentPhone(endpoint=f"agent-{name}", password=None, contact=f"sip:{name}@127.0.0.1:{port}")
                   for name, port in phones.items())
    async with (running_pbx(test_plan(agi_port=agi_port, agents=agents), tmp_path / "pbx") as pbx,
                hub_on(pbx, agi_port, db_name, mongo_url, redis_url, ring_timeout_s=3.0,
                       short_abandon_s=2.0) as hub):
        yield VoiceRig(pbx, hub, phones, db_name, mongo_url, redis_url)


async def _conversation_of_call(db: Db) -> dict[str, Any]:
    call = await eventually(lambda: db["calls"].find_one({}), timeout=30)
    return await db["conversations"].find_one({"_id": call["conversation_id"]})  # type: ignore[no-any-return]


async def _events(db: Db, conversation_id: str) -> list[dict[str, Any]]:
    return await db["events"].find({"conversation_id": conversation_id}).sort("version", 1).to_list(100)


async def test_a_call_through_the_menu_rings_the_next_agent_when_the_first_does_not_answer(
        voice: VoiceRig, db: Db) -> None:
    phones = voice.pbx.phones
    alice_phone = await phones.agent("alice-phone", voice.phones["alice"], answer_ms=None)  # rings, never answers
    chen_phone = await phones.agent("chen-phone", voice.phones["chen"], answer_ms=400, hangup_ms=5000)
    alice = await AgentClient.online(voice.hub.base_url, "alice")
    chen = await AgentClient(voice.hub.base_url).login("chen")
    try:
        await chen.connect()
        # "1" is billing: alice and chen have the skill; only alice is available at first.
        caller = await phones.caller("caller", "customer", "100", dtmf=[(2500, "1")], hangup_ms=None)
        offer = await alice.next("offer", timeout=30)
        conversation_id = offer["conversation"]["id"]
        assert offer["conversation"]["channel"] == "voice"
        await chen.available()  # alice's phone rings out (3 s): the next agent is chen
        await chen.next("offer", timeout=30, conversation__id=conversation_id)
        await eventually(lambda: _state(db, conversation_id, "wrap_up"), timeout=40)
        assert await caller.wait(timeout=30) == 0, caller.output()

        events = [(e["type"], e["to_state"]) for e in await _events(db, conversation_id)]
        assert events[:4] == [("created", "new"), ("queued", "queued"), ("offered", "offered"),
                              ("offer_timed_out", "queued")]
        assert events[4:] == [("offered", "offered"), ("assigned", "assigned"), ("call_ended", "wrap_up")]
        ended = (await _events(db, conversation_id))[-1]
        assert ended["detail"]["ended_by"] == Party.AGENT.value and ended["actor"] == "agent"
        assert float(ended["detail"]["talk_s"]) > 3.0

        call = await db["calls"].find_one({"conversation_id": conversation_id})
        steps = [(s["step"], s["detail"].get("agent_id")) for s in call["steps"]]
        alice_id, chen_id = alice.agent["id"], chen.agent["id"]
        assert steps[0][0] == Step.ARRIVED and call["choice"] == "1"
        assert (Step.RINGING.value, alice_id) in steps and (Step.NO_ANSWER.value, alice_id) in steps
        assert steps[-2:] == [(Step.ANSWERED.value, chen_id), (Step.HUNG_UP.value, None)]
        assert call["ended_by"] == "agent" and call["agent_id"] == chen_id
        assert (await db["conversations"].find_one({"_id": conversation_id}))["queue"] == "billing"

        # Both directions of the audio are on the recording, each leg on its own file.
        base = voice.pbx.instance.recordings_dir_host / call["recordings"][0]
        legs = {leg: Path(f"{base}-{leg}.wav") for leg in ("caller", "agent")}
        await wait_until(lambda: all(wav_complete(p) for p in legs.values()), what="the recordings")
        caller_leg, agent_leg = read_wav(legs["caller"]), read_wav(legs["agent"])
        assert tone_level(caller_leg, CALLER_TONE) > 5 * tone_level(caller_leg, AGENT_TONE)
        assert tone_level(agent_leg, AGENT_TONE) > 5 * tone_level(agent_leg, CALLER_TONE)

        # The call's end put it in wrap-up by itself: she picks the code there, then resolves.
        code = (await chen.call("GET", "/api/wrap_up_codes"))["codes"][0]["code"]
        await chen.call("POST", f"/api/conversations/{conversation_id}/wrap_up", {"code": code})
        coded = await db["conversations"].find_one({"_id": conversation_id})
        assert coded["state"] == "wrap_up" and coded["wrap_up_code"] == code
        assert await db["events"].count_documents({"conversation_id": conversation_id, "type": "wrap_up_coded",
                                                   "detail.code": code, "actor": chen_id}) == 1
        await chen.call("POST", f"/api/conversations/{conversation_id}/resolve")
        await chen_phone.wait(timeout=30)
    finally:
        await alice_phone.kill()
        await alice.close()
        await chen.close()


async def test_a_caller_who_hangs_up_while_waiting_has_abandoned_with_the_wait(voice: VoiceRig, db: Db) -> None:
    # Nobody is available: the caller chooses outages ("2"), waits and hangs up 6 s after answering.
    caller = await voice.pbx.phones.caller("caller", "customer", "100", dtmf=[(2500, "2")], hangup_ms=9000)
    conversation = await _conversation_of_call(db)
    assert await caller.wait(timeout=30) == 0, caller.output()
    await eventually(lambda: _state(db, conversation["_id"], "abandoned"), timeout=20)
    last = (await _events(db, conversation["_id"]))[-1]
    assert last["type"] == "abandoned" and last["from_state"] == "queued"
    wait_s = float(last["detail"]["wait_s"])
    assert 2.0 < wait_s < 9.0, wait_s  # from queueing (after the menu) to the hang-up
    assert last["detail"]["short"] == "no"  # the short-abandon threshold is 2 s here
    call = await db["calls"].find_one({"conversation_id": conversation["_id"]})
    assert call["ended_by"] == "caller" and call["answered_at"] is None


async def test_an_agent_on_a_call_gets_no_chat_until_the_call_is_resolved(voice: VoiceRig, db: Db) -> None:
    chen_phone = await voice.pbx.phones.agent("chen-phone", voice.phones["chen"], answer_ms=300)
    chen = await AgentClient.online(voice.hub.base_url, "chen")
    customer = WidgetClient(voice.hub.base_url, chen.session)
    try:
        caller = await voice.pbx.phones.caller("caller", "customer", "100", dtmf=[(2500, "1")], hangup_ms=8000)
        offer = await chen.next("offer", timeout=30)
        call_conversation = offer["conversation"]["id"]
        await eventually(lambda: _state(db, call_conversation, "assigned"), timeout=20)
        await customer.connect()
        chat = (await customer.say("my bill is wrong"))["conversation_id"]
        await eventually(lambda: _state(db, chat, "queued"), timeout=10)
        await eventually(lambda: _state(db, call_conversation, "wrap_up"), timeout=30)  # the caller hung up
        assert await caller.wait(timeout=30) == 0
        assert (await db["conversations"].find_one({"_id": chat}))["state"] == "queued"  # still no offer
        await chen.call("POST", f"/api/conversations/{call_conversation}/resolve")
        await chen.next("offer", timeout=15, conversation__id=chat)  # chats flow again
    finally:
        await chen_phone.kill()
        await customer.close()
        await chen.close()


async def _state(db: Db, conversation_id: str, state: str) -> bool:
    doc = await db["conversations"].find_one({"_id": conversation_id}, {"state": 1})
    return doc is not None and doc["state"] == state


async def test_the_agent_holds_resumes_and_transfers_the_call_from_the_console(voice: VoiceRig, db: Db) -> None:
    phones = voice.pbx.phones
    alice_phone = await phones.agent("alice-phone", voice.phones["alice"], answer_ms=300)
    chen_phone = await phones.agent("chen-phone", voice.phones["chen"], answer_ms=300)
    alice = await AgentClient.online(voice.hub.base_url, "alice")
    chen = await AgentClient(voice.hub.base_url).login("chen")
    try:
        await chen.connect()
        caller = await phones.caller("caller", "customer", "100", dtmf=[(2500, "1")], hangup_ms=None)
        conversation_id = (await alice.next("offer", timeout=30))["conversation"]["id"]
        await eventually(lambda: _state(db, conversation_id, "assigned"), timeout=20)
        path = f"/api/conversations/{conversation_id}/call"
        await chen.call("POST", f"{path}/hold", expect=403)  # not hers to see, let alone hold
        await alice.call("POST", f"{path}/hold")
        await eventually(lambda: _call_field(db, conversation_id, "held_since"), timeout=10)
        await alice.call("POST", f"{path}/hold", expect=200)  # holding a held call changes nothing
        await alice.call("POST", f"{path}/resume")
        held = await eventually(lambda: _call_field(db, conversation_id, "hold_s"), timeout=10)
        assert held > 0
        # Blind transfer to billing: back in line, and chen (available now) gets her phone rung.
        await chen.available()
        await alice.call("POST", f"{path}/transfer", {"queue": "billing"})
        await chen.next("offer", timeout=30, conversation__id=conversation_id)
        await eventually(lambda: _assigned_to(db, conversation_id, chen.agent["id"]), timeout=20)
        await chen.call("POST", f"{path}/hangup")
        await eventually(lambda: _state(db, conversation_id, "wrap_up"), timeout=20)
        assert await caller.wait(timeout=30) == 0, caller.output()
        types = [e["type"] for e in await _events(db, conversation_id)]
        assert types[-5:] == ["assigned", "transferred", "offered", "assigned", "call_ended"]
        call = await db["calls"].find_one({"conversation_id": conversation_id})
        steps = [s["step"] for s in call["steps"]]
        assert [s for s in steps if s in ("held", "resumed", "transferred")] == ["held", "resumed", "transferred"]
        assert call["ended_by"] == "agent" and len(call["recordings"]) == 2  # one per answered leg
        assert await alice_phone.wait(timeout=30) == 0  # her leg was let go at the transfer
    finally:
        await chen_phone.kill()
        await alice.close()
        await chen.close()


async def test_a_hub_restart_mid_call_keeps_the_waiting_caller_in_line_and_the_talking_one_assigned(
        tmp_path: Path, db_name: str, mongo_url: str, redis_url: str, redis: Redis, db: Db) -> None:
    agi_port = free_port()
    phones = {"alice": free_udp_ports(), "bob": free_udp_ports()}
    agents = tuple(AgentPhone(endpoint=f"agent-{name}", password=None, contact=f"sip:{name}@127.0.0.1:{port}")
                   for name, port in phones.items())
    plan = test_plan(agi_port=agi_port, agents=agents, callers=("customer", "customer2"))
    async with running_pbx(plan, tmp_path / "pbx") as pbx:
        alice_phone = await pbx.phones.agent("alice-phone", phones["alice"], answer_ms=300)
        bob_phone = await pbx.phones.agent("bob-phone", phones["bob"], answer_ms=300, hangup_ms=3000)
        async with hub_on(pbx, agi_port, db_name, mongo_url, redis_url) as first:
            alice = await AgentClient.online(first.base_url, "alice")
            talking = await pbx.phones.caller("talking", "customer", "100", dtmf=[(2500, "1")], hangup_ms=None)
            talking_id = (await alice.next("offer", timeout=30))["conversation"]["id"]
            await eventually(lambda: _state(db, talking_id, "assigned"), timeout=20)
            # Outages: nobody online has the skill; this caller waits with music on hold.
            waiting = await pbx.phones.caller("waiting", "customer2", "100", dtmf=[(2500, "2")], hangup_ms=None)
            waiting_call = await eventually(lambda: db["calls"].find_one({"caller": "customer2"}), timeout=30)
            waiting_id = waiting_call["conversation_id"]
            await eventually(lambda: _state(db, waiting_id, "queued"), timeout=20)
            await alice.close()
        # The hub is gone (its AMI session and FastAGI server with it); both calls go on in Asterisk.
        async with hub_on(pbx, agi_port, db_name, mongo_url, redis_url) as second:
            assert await _state(db, talking_id, "assigned") and await _state(db, waiting_id, "queued")
            alice = await AgentClient(second.base_url).login("alice")
            bob = await AgentClient.online(second.base_url, "bob")
            try:
                await alice.call("POST", f"/api/conversations/{talking_id}/call/hangup")
                await eventually(lambda: _state(db, talking_id, "wrap_up"), timeout=20)
                assert await talking.wait(timeout=30) == 0, talking.output()
                await bob.next("offer", timeout=30, conversation__id=waiting_id)  # it kept its place
                await eventually(lambda: _state(db, waiting_id, "wrap_up"), timeout=30)  # bob hangs up at 3 s
                assert await waiting.wait(timeout=30) == 0, waiting.output()
            finally:
                await alice_phone.kill()
                await bob_phone.kill()
                await alice.close()
                await bob.close()


async def test_an_asterisk_crash_mid_call_ends_the_calls_it_lost(voice: VoiceRig, db: Db) -> None:
    caller = await voice.pbx.phones.caller("caller", "customer", "100", dtmf=[(2500, "2")], hangup_ms=None)
    conversation = await _conversation_of_call(db)
    await eventually(lambda: _state(db, conversation["_id"], "queued"), timeout=20)
    pid = voice.pbx.instance.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # no Hangup event reaches the hub: it learns of the loss on reconnection
    await voice.pbx.instance.stop()
    await voice.pbx.instance.start()
    await caller.kill()
    # The line reconnects (supervised, with backoff) and finds the caller's channel gone.
    await eventually(lambda: _state(db, conversation["_id"], "abandoned"), timeout=30)
    last = (await _events(db, conversation["_id"]))[-1]
    assert last["detail"]["lost"] == "yes"
    call = await db["calls"].find_one({"conversation_id": conversation["_id"]})
    assert call["ended_by"] == "system" and call["steps"][-1]["step"] == "lost"
    await eventually(lambda: _line_up(voice.hub), timeout=20)


async def _call_field(db: Db, conversation_id: str, name: str) -> Any:
    doc = await db["calls"].find_one({"conversation_id": conversation_id}, {name: 1})
    return doc.get(name) if doc else None


async def _assigned_to(db: Db, conversation_id: str, agent_id: str) -> bool:
    doc = await db["conversations"].find_one({"_id": conversation_id}, {"state": 1, "agent_id": 1})
    return doc is not None and doc["state"] == "assigned" and doc["agent_id"] == agent_id


async def test_a_caller_who_asks_for_a_call_back_keeps_the_place_and_is_called_when_an_agent_answers(
        tmp_path: Path, db_name: str, mongo_url: str, redis_url: str, redis: Redis, db: Db) -> None:
    agi_port = free_port()
    alice_port, customer_port = free_udp_ports(), free_udp_ports()
    phones = (AgentPhone(endpoint="agent-alice", password=None, contact=f"sip:alice@127.0.0.1:{alice_port}"),
              # Where the PBX sends outbound calls (PJSIP/<number>@trunk): here the customer's phone.
              AgentPhone(endpoint="trunk", password=None, contact=f"sip:trunk@127.0.0.1:{customer_port}"))
    async with running_pbx(test_plan(agi_port=agi_port, agents=phones), tmp_path / "pbx") as pbx, \
            hub_on(pbx, agi_port, db_name, mongo_url, redis_url) as hub:
        # "9": call me back. The caller hears the confirmation and the PBX hangs up.
        caller = await pbx.phones.caller("caller", "customer", "100", dtmf=[(2500, "9")], hangup_ms=None)
        assert await caller.wait(timeout=40) == 0, caller.output()
        call = await eventually(lambda: db["calls"].find_one({"callback": True}), timeout=10)
        conversation_id = call["conversation_id"]
        assert await _state(db, conversation_id, "queued")  # no abandon: the place is kept
        assert call["ended_at"] is None and call["caller_channel"] is None

        customer_phone = await pbx.phones.agent("customer-phone", customer_port, answer_ms=300, hangup_ms=4000)
        alice_phone = await pbx.phones.agent("alice-phone", alice_port, answer_ms=300)
        alice = await AgentClient.online(hub.base_url, "alice")
        try:
            await alice.next("offer", timeout=30, conversation__id=conversation_id)
            # Her phone rings and she answers; then the customer's phone rings and answers; the
            # customer hangs up 4 s later.
            await eventually(lambda: _state(db, conversation_id, "wrap_up"), timeout=40)
            assert await customer_phone.wait(timeout=30) == 0, customer_phone.output()
            done = await db["calls"].find_one({"_id": call["_id"]})
            steps = [s["step"] for s in done["steps"]]
            assert steps[:3] == ["arrived", "menu", "callback"]
            # Her leg dials as soon as she answers: "dialing" may be stored before "answered".
            assert steps[3:5] == ["hung_up", "ringing"] and steps[-1] == "hung_up", steps
            assert sorted(steps[5:-1]) == ["answered", "connected", "dialing"], steps
            assert steps.index("dialing") < steps.index("connected"), steps
            assert done["ended_by"] == "caller" and done["agent_id"] == alice.agent["id"]
            last = (await _events(db, conversation_id))[-1]
            assert last["type"] == "call_ended" and float(last["detail"]["talk_s"]) > 3.0
        finally:
            await alice_phone.kill()
            await alice.close()


async def test_staff_call_a_customer_from_the_contact_panel(
        tmp_path: Path, db_name: str, mongo_url: str, redis_url: str, redis: Redis, db: Db) -> None:
    agi_port, alice_port, customer_port = free_port(), free_udp_ports(), free_udp_ports()
    phones = (AgentPhone(endpoint="agent-sara", password=None, contact=f"sip:sara@127.0.0.1:{alice_port}"),
              AgentPhone(endpoint="trunk", password=None, contact=f"sip:trunk@127.0.0.1:{customer_port}"))
    async with running_pbx(test_plan(agi_port=agi_port, agents=phones), tmp_path / "pbx") as pbx, \
            hub_on(pbx, agi_port, db_name, mongo_url, redis_url) as hub:
        contact = await MongoContactStore(db).ensure("sms:+8613800138000", "Ann", hub.context.clock.now())
        customer_phone = await pbx.phones.agent("customer-phone", customer_port, answer_ms=300, hangup_ms=3000)
        alice_phone = await pbx.phones.agent("sara-phone", alice_port, answer_ms=300)
        # A supervisor sees every contact; an agent may call the contacts she may see (those she served).
        alice = await AgentClient.online(hub.base_url, "sara")
        tom = await AgentClient(hub.base_url).login("tom")
        try:
            path = f"/api/contacts/{contact['_id']}/call"
            await tom.call("POST", path, {}, expect=403)  # trainers make no calls
            bob = await AgentClient(hub.base_url).login("bob")
            await bob.call("POST", path, {}, expect=403)  # a contact bob never served is not his to see
            await bob.close()
            conversation_id = (await alice.call("POST", path, {}, expect=201))["conversation_id"]
            assert await _assigned_to(db, conversation_id, alice.agent["id"])  # hers from the start
            await alice.call("POST", path, {}, expect=409)  # one call at a time
            await eventually(lambda: _state(db, conversation_id, "wrap_up"), timeout=40)
            assert await customer_phone.wait(timeout=30) == 0, customer_phone.output()
            types = [e["type"] for e in await _events(db, conversation_id)]
            assert types == ["created", "called_out", "call_ended"]
            call = await db["calls"].find_one({"conversation_id": conversation_id})
            steps = [s["step"] for s in call["steps"]]
            assert steps[0] == "outbound" and "connected" in steps and steps[-1] == "hung_up"
            assert call["caller"] == "+8613800138000" and call["ended_by"] == "caller" and call["outbound"]
            await alice.call("POST", f"/api/conversations/{conversation_id}/resolve")
        finally:
            await alice_phone.kill()
            await alice.close()
            await tom.close()


async def test_a_caller_who_sent_an_sms_from_that_number_is_the_same_contact(
        tmp_path: Path, db_name: str, mongo_url: str, redis_url: str, redis: Redis, db: Db) -> None:
    agi_port = free_port()
    # The PBX names a SIP caller by its From user: here the bare international number, as SMSCs send it.
    plan = test_plan(agi_port=agi_port, callers=("8613800138000",))
    async with running_pbx(plan, tmp_path / "pbx") as pbx, hub_on(pbx, agi_port, db_name, mongo_url, redis_url) as hub:
        texted = await MongoContactStore(db).ensure("sms:+8613800138000", "Ann Lee", hub.context.clock.now())
        caller = await pbx.phones.caller("caller", "8613800138000", "100", dtmf=[(2500, "1")], hangup_ms=6000)
        call = await eventually(lambda: db["calls"].find_one({}), timeout=40)
        conversation = await db["conversations"].find_one({"_id": call["conversation_id"]})
        assert conversation["contact_id"] == texted["_id"] and conversation["channel"] == "voice"
        assert await db["contacts"].count_documents({}) == 1  # no second contact for the call
        assert await caller.wait(timeout=30) == 0, caller.output()


async def test_an_offer_made_while_the_bus_is_deaf_rings_the_phone_all_the_same(
        voice: VoiceRig, db: Db, redis: Redis) -> None:
    """ADR 0074: the offer's ``OfferMade`` is this process's own fact, handed to its voice line when
    published, so the phone rings while no bus listens (held open: Redis refuses SUBSCRIBE); before,
    the fact was lost in the gap and the line rang only once the bus subscribed again (ADR 0066,
    which still covers offers another process makes). She answers the first offer."""
    phone = await voice.pbx.phones.agent("alice-phone", voice.phones["alice"], answer_ms=400, hangup_ms=3000)
    alice = await AgentClient.online(voice.hub.base_url, "alice")
    try:
        async with deaf_bus(redis):
            caller = await voice.pbx.phones.caller("caller", "customer", "100", dtmf=[(2500, "1")], hangup_ms=None)
            conversation_id = (await _conversation_of_call(db))["_id"]
            await eventually(lambda: _state(db, conversation_id, "assigned"), timeout=30)
            call = await db["calls"].find_one({"conversation_id": conversation_id})
            assert Step.RINGING.value in [s["step"] for s in call["steps"]]  # rung with no bus listening
        await eventually(lambda: _state(db, conversation_id, "wrap_up"), timeout=40)
        events = [(e["type"], e["to_state"]) for e in await _events(db, conversation_id)]
        assert events[:4] == [("created", "new"), ("queued", "queued"), ("offered", "offered"),
                              ("assigned", "assigned")]  # the first offer: no offer_timed_out
        assert await caller.wait(timeout=30) == 0, caller.output()
    finally:
        await phone.kill()
        await alice.close()
