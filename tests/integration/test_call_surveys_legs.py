"""The keypad survey on every leg a customer can be on (issue 14, item 6), on one real Asterisk
(tests/pbx_rig.py) with sipp phones: a call resolved by its agent while the caller is still on the
line, a call back and an agent's outbound call whose agent hangs up first (the customer's leg goes
to the survey, not down with hers), an outbound call whose customer hangs up first (no survey), and
an agent who resolves while her caller is in the survey (asked once, the answer counted). Every
answer closes its conversation with ``survey_answered`` and CSAT counts it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from hub.embedded import free_port
from hub.storage.contacts import MongoContactStore
from hub.storage.database import Db
from tests.clients import AgentClient
from tests.conftest import eventually
from tests.integration.test_call_surveys import surveyed_hub
from tests.integration.test_calls import _call_field, _events, _state
from tests.pbx_rig import running_pbx, test_plan
from tests.sipp_phones import free_udp_ports, write_call_pcap
from voice.pbx_config import AgentPhone


def keys(digit: str, *, first_ms: int = 6000, every_ms: int = 5000, until_ms: int = 60000) -> list[tuple[int, str]]:
    """``digit`` pressed again and again: a key before the question is asked (still talking, or the
    question not yet started) is lost, one in the question's window is the answer; the first answer
    ends the survey, so the presses after it fall on a finished call."""
    return [(at, digit) for at in range(first_ms, until_ms, every_ms)]


async def test_a_call_resolved_with_the_caller_on_the_line_and_a_resolve_during_the_survey(
        tmp_path: Path, db_name: str, mongo_url: str, redis_url: str, redis: Redis, db: Db) -> None:
    agi_port, chen_port = free_port(), free_udp_ports()
    phones = (AgentPhone(endpoint="agent-chen", password=None, contact=f"sip:chen@127.0.0.1:{chen_port}"),)
    async with running_pbx(test_plan(agi_port=agi_port, agents=phones), tmp_path / "pbx") as pbx, \
            surveyed_hub(pbx, agi_port, db_name, mongo_url, redis_url) as hub:
        chen = await AgentClient.online(hub.base_url, "chen")
        sara = await AgentClient(hub.base_url).login("sara")
        try:
            # 1. Chen answers and, still talking, resolves the conversation in the console: her phone is
            # hung up by the PBX (it never hangs up by itself) and the caller hears the question.
            chen_phone = await pbx.phones.agent("chen-phone", chen_port, answer_ms=300)
            caller = await pbx.phones.caller("caller", "customer", "100", hangup_ms=None,
                                             dtmf=[(2500, "1"), *keys("5", first_ms=12000)])
            first = (await chen.next("offer", timeout=30))["conversation"]["id"]
            await eventually(lambda: _state(db, first, "assigned"), timeout=30)
            await chen.call("POST", f"/api/conversations/{first}/resolve")
            assert await chen_phone.wait(timeout=30) == 0, chen_phone.output()  # her leg ended by the hub
            assert await caller.wait(timeout=60) == 0, caller.output()  # the PBX ended it after the survey
            await eventually(lambda: _state(db, first, "closed"), timeout=15)
            last = (await _events(db, first))[-1]
            assert (last["type"], last["detail"]["score"], last["channel"]) == ("survey_answered", "5", "voice")
            call = await db["calls"].find_one({"conversation_id": first})
            assert call is not None and call["ended_by"] == "agent" and call["ended_at"] is not None

            # 2. Chen's phone hangs up 3 s after answering: the caller goes to the survey; she resolves
            # at once, while the caller is being asked. The survey is neither restarted nor cut off:
            # one survey, asked once, and the caller's 2 closes the conversation.
            chen_phone = await pbx.phones.agent("chen-phone-2", chen_port, answer_ms=300, hangup_ms=3000)
            caller = await pbx.phones.caller("caller-2", "customer", "100", hangup_ms=None,
                                             dtmf=[(2500, "1"), *keys("2", first_ms=14000)])
            second = (await eventually(lambda: db["calls"].find_one({"conversation_id": {"$ne": first}}),
                                       timeout=30))["conversation_id"]
            await eventually(lambda: _state(db, second, "wrap_up"), timeout=40)
            await chen.call("POST", f"/api/conversations/{second}/resolve")
            assert await caller.wait(timeout=60) == 0, caller.output()
            assert await chen_phone.wait(timeout=30) == 0, chen_phone.output()
            await eventually(lambda: _state(db, second, "closed"), timeout=15)
            surveys = await db["surveys"].find({"_id": second}).to_list(None)
            assert [(s["state"], s["score"], s.get("reasks", 0)) for s in surveys] == [("answered", 2, 0)]
            types = [e["type"] for e in await _events(db, second)]
            assert types.count("survey_answered") == 1 and types[-1] == "survey_answered", types

            async def counted() -> dict[str, Any] | None:
                total = (await sara.call("GET", "/api/kpi/today"))["total"]
                return total if total["surveys_answered"] == 2 else None

            total = await eventually(counted, timeout=15)
            assert (total["csat"], total["csat_mean"]) == (0.5, 3.5)  # a 5 (satisfied) and a 2
        finally:
            await chen.close()
            await sara.close()


async def test_call_backs_and_outbound_calls_survey_the_customer_when_the_agent_hangs_up_first(
        tmp_path: Path, db_name: str, mongo_url: str, redis_url: str, redis: Redis, db: Db) -> None:
    agi_port, alice_port, sara_port, customer_port = free_port(), free_udp_ports(), free_udp_ports(), free_udp_ports()
    phones = (AgentPhone(endpoint="agent-alice", password=None, contact=f"sip:alice@127.0.0.1:{alice_port}"),
              AgentPhone(endpoint="agent-sara", password=None, contact=f"sip:sara@127.0.0.1:{sara_port}"),
              # Where the PBX sends outbound calls (PJSIP/<number>@trunk): here the customer's phone.
              AgentPhone(endpoint="trunk", password=None, contact=f"sip:trunk@127.0.0.1:{customer_port}"))
    async with running_pbx(test_plan(agi_port=agi_port, agents=phones), tmp_path / "pbx") as pbx, \
            surveyed_hub(pbx, agi_port, db_name, mongo_url, redis_url) as hub:
        sara = await AgentClient(hub.base_url).login("sara")
        alice: AgentClient | None = None
        try:
            # 1. A call back: "9", the caller hangs up and keeps the place. Alice answers, the hub dials
            # the customer (a phone that answers and presses 4 from time to time); alice hangs up 3 s
            # later, and the customer, still on the line, is asked and answers.
            caller = await pbx.phones.caller("caller", "customer", "100", dtmf=[(2500, "9")], hangup_ms=None)
            assert await caller.wait(timeout=40) == 0, caller.output()
            call = await eventually(lambda: db["calls"].find_one({"callback": True}), timeout=10)
            called_back = call["conversation_id"]
            keyed = write_call_pcap(tmp_path / "keys-4.pcap", 440.0, 60.0, dtmf=keys("4", first_ms=4000))
            customer_phone = await pbx.phones.agent("customer-phone", customer_port, answer_ms=300, audio=keyed)
            alice_phone = await pbx.phones.agent("alice-phone", alice_port, answer_ms=300, hangup_ms=3000)
            alice = await AgentClient.online(hub.base_url, "alice")
            await eventually(lambda: _state(db, called_back, "wrap_up"), timeout=40)
            assert await alice_phone.wait(timeout=30) == 0, alice_phone.output()
            assert await customer_phone.wait(timeout=60) == 0, customer_phone.output()  # ended after the survey
            survey = await eventually(lambda: _answered(db, called_back), timeout=15)
            assert (survey["channel"], survey["score"], survey["agent_id"]) == ("voice", 4, alice.agent["id"])
            done = await db["calls"].find_one({"_id": call["_id"]})
            assert done is not None and done["ended_by"] == "agent"
            await alice.call("POST", f"/api/conversations/{called_back}/resolve")
            await eventually(lambda: _state(db, called_back, "closed"), timeout=15)
            # 2. Sara calls a contact from the contact panel and hangs up first: the customer is asked.
            contact = await MongoContactStore(db).ensure("sms:+8613800138000", "Ann", hub.context.clock.now())
            keyed = write_call_pcap(tmp_path / "keys-5.pcap", 440.0, 60.0, dtmf=keys("5", first_ms=4000))
            customer_phone = await pbx.phones.agent("customer-phone-2", customer_port, answer_ms=300, audio=keyed)
            sara_phone = await pbx.phones.agent("sara-phone", sara_port, answer_ms=300, hangup_ms=3000)
            path = f"/api/contacts/{contact['_id']}/call"
            called_out = (await sara.call("POST", path, {}, expect=201))["conversation_id"]
            await eventually(lambda: _state(db, called_out, "wrap_up"), timeout=40)
            assert await sara_phone.wait(timeout=30) == 0, sara_phone.output()
            assert await customer_phone.wait(timeout=60) == 0, customer_phone.output()
            survey = await eventually(lambda: _answered(db, called_out), timeout=15)
            assert (survey["channel"], survey["score"], survey["agent_id"]) == ("voice", 5, sara.agent["id"])
            await sara.call("POST", f"/api/conversations/{called_out}/resolve")
            await eventually(lambda: _state(db, called_out, "closed"), timeout=15)

            # 3. Another outbound call; this time the customer hangs up first (3 s after answering):
            # the call ends by the caller, nobody is asked, and the conversation stays resolved.
            customer_phone = await pbx.phones.agent("customer-phone-3", customer_port, answer_ms=300, hangup_ms=3000)
            sara_phone = await pbx.phones.agent("sara-phone-2", sara_port, answer_ms=300)
            unasked = (await sara.call("POST", path, {}, expect=201))["conversation_id"]
            await eventually(lambda: _state(db, unasked, "wrap_up"), timeout=40)
            assert await customer_phone.wait(timeout=30) == 0, customer_phone.output()
            assert await sara_phone.wait(timeout=30) == 0, sara_phone.output()  # the hub hung up her leg
            ended = await db["calls"].find_one({"conversation_id": unasked})
            assert ended is not None and ended["ended_by"] == "caller"
            await sara.call("POST", f"/api/conversations/{unasked}/resolve")
            await eventually(lambda: _state(db, unasked, "resolved"), timeout=15)
            assert await db["surveys"].find_one({"_id": unasked}) is None

            async def counted() -> dict[str, Any] | None:
                total = (await sara.call("GET", "/api/kpi/today"))["total"]
                return total if total["surveys_answered"] == 2 else None

            total = await eventually(counted, timeout=15)
            assert (total["csat"], total["csat_mean"]) == (1.0, 4.5)
            assert await db["surveys"].count_documents({}) == 2  # one per surveyed conversation, no more
        finally:
            if alice is not None:
                await alice.close()
            await sara.close()


async def test_an_outbound_call_held_resumed_and_resolved_while_talking_surveys_the_customer(
        tmp_path: Path, db_name: str, mongo_url: str, redis_url: str, redis: Redis, db: Db) -> None:
    """A hold takes both legs out of the agent leg's Dial (its F option no longer applies): the resolve
    after the resume ends her leg and the line itself redirects the customer to the survey."""
    agi_port, sara_port, customer_port = free_port(), free_udp_ports(), free_udp_ports()
    phones = (AgentPhone(endpoint="agent-sara", password=None, contact=f"sip:sara@127.0.0.1:{sara_port}"),
              AgentPhone(endpoint="trunk", password=None, contact=f"sip:trunk@127.0.0.1:{customer_port}"))
    async with running_pbx(test_plan(agi_port=agi_port, agents=phones), tmp_path / "pbx") as pbx, \
            surveyed_hub(pbx, agi_port, db_name, mongo_url, redis_url) as hub:
        sara = await AgentClient(hub.base_url).login("sara")
        try:
            contact = await MongoContactStore(db).ensure("sms:+8613800138000", "Ann", hub.context.clock.now())
            presses = keys("3", first_ms=8000, until_ms=90000)
            keyed = write_call_pcap(tmp_path / "keys-3.pcap", 440.0, 90.0, dtmf=presses)
            customer_phone = await pbx.phones.agent("customer-phone", customer_port, answer_ms=300, audio=keyed)
            sara_phone = await pbx.phones.agent("sara-phone", sara_port, answer_ms=300)
            conversation_id = (await sara.call("POST", f"/api/contacts/{contact['_id']}/call", {},
                                               expect=201))["conversation_id"]
            await eventually(lambda: _call_field(db, conversation_id, "caller_channel"), timeout=40)
            path = f"/api/conversations/{conversation_id}/call"
            await sara.call("POST", f"{path}/hold")
            await eventually(lambda: _call_field(db, conversation_id, "held_since"), timeout=10)
            await sara.call("POST", f"{path}/resume")
            assert await eventually(lambda: _call_field(db, conversation_id, "hold_s"), timeout=10) > 0
            assert await _state(db, conversation_id, "assigned")  # still talking after the resume
            await sara.call("POST", f"/api/conversations/{conversation_id}/resolve")
            assert await sara_phone.wait(timeout=30) == 0, sara_phone.output()  # her leg ended by the hub
            assert await customer_phone.wait(timeout=90) == 0, customer_phone.output()  # after the survey
            await eventually(lambda: _state(db, conversation_id, "closed"), timeout=15)
            last = (await _events(db, conversation_id))[-1]
            assert (last["type"], last["detail"]["score"], last["channel"]) == ("survey_answered", "3", "voice")
            call = await db["calls"].find_one({"conversation_id": conversation_id})
            assert call is not None and call["ended_by"] == "agent" and call["outbound"]
        finally:
            await sara.close()


async def _answered(db: Db, conversation_id: str) -> dict[str, Any] | None:
    doc: dict[str, Any] | None = await db["surveys"].find_one({"_id": conversation_id, "state": "answered"})
    return doc
