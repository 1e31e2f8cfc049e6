"""Surveys by phone on one real Asterisk (tests/pbx_rig.py) with sipp callers and phones: the
keypad survey after the agent hangs up (issue 14) and a closed work order's callback survey as an
outbound call (issue 15): answered with 1 (the order reopens), and rung out (the SMS question goes
instead). One PBX and one hub for the whole module's story (each start costs seconds)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.config import SurveySettings, WorkOrdersSettings
from hub.embedded import free_port
from hub.storage.database import Db
from tests.clients import AgentClient
from tests.conftest import eventually, make_settings
from tests.integration.test_calls import _events, _line_up, _state, voice_settings
from tests.pbx_rig import PbxRig, running_pbx, test_plan
from tests.sipp_phones import free_udp_ports, write_call_pcap
from voice.pbx_config import AgentPhone


async def test_callers_answer_the_keypad_survey_and_a_closed_orders_customer_is_called_back(
        tmp_path: Path, db_name: str, mongo_url: str, redis_url: str, redis: Redis, db: Db) -> None:
    agi_port, chen_port, customer_port = free_port(), free_udp_ports(), free_udp_ports()
    phones = (AgentPhone(endpoint="agent-chen", password=None, contact=f"sip:chen@127.0.0.1:{chen_port}"),
              # Where the PBX sends outbound calls (PJSIP/<number>@trunk): here the customer's phone.
              AgentPhone(endpoint="trunk", password=None, contact=f"sip:trunk@127.0.0.1:{customer_port}"))
    plan = test_plan(agi_port=agi_port, agents=phones)
    async with running_pbx(plan, tmp_path / "pbx") as pbx, \
            surveyed_hub(pbx, agi_port, db_name, mongo_url, redis_url) as hub:
        chen = await AgentClient.online(hub.base_url, "chen")
        sara = await AgentClient(hub.base_url).login("sara")
        try:
            # 1. The caller chooses billing ("1"); chen answers and hangs up 3 s later. The caller stays
            # on the line, hears the question and presses 4 (pressed twice: the first may come early).
            chen_phone = await pbx.phones.agent("chen-phone", chen_port, answer_ms=300, hangup_ms=3000)
            caller = await pbx.phones.caller("caller", "customer", "100", hangup_ms=None,
                                             dtmf=[(2500, "1"), (11000, "4"), (19000, "4")])
            conversation_id = (await chen.next("offer", timeout=30))["conversation"]["id"]
            await eventually(lambda: _state(db, conversation_id, "wrap_up"), timeout=40)
            assert await caller.wait(timeout=60) == 0, caller.output()  # the PBX ended the call after the survey
            assert await chen_phone.wait(timeout=30) == 0, chen_phone.output()
            survey = await eventually(lambda: _answered(db, conversation_id), timeout=10)
            assert (survey["channel"], survey["score"], survey["agent_id"]) == ("voice", 4, chen.agent["id"])
            call = await db["calls"].find_one({"conversation_id": conversation_id})
            assert call is not None and call["ended_by"] == "agent"

            # Her resolve closes the conversation with the score, and CSAT counts it.
            await chen.call("POST", f"/api/conversations/{conversation_id}/resolve")
            await eventually(lambda: _state(db, conversation_id, "closed"), timeout=15)
            last = (await _events(db, conversation_id))[-1]
            assert (last["type"], last["detail"]["score"], last["channel"]) == ("survey_answered", "4", "voice")

            async def counted() -> dict[str, Any] | None:
                total = (await sara.call("GET", "/api/kpi/today"))["total"]
                return total if total["surveys_answered"] == 1 else None

            total = await eventually(counted, timeout=15)
            assert (total["csat"], total["csat_mean"]) == (1.0, 4.0)

            # 2. A complaint opened from that call is closed: the hub calls the customer's number (the
            # trunk: a sipp phone that answers and presses 1), and the answer reopens the order.
            keyed = write_call_pcap(tmp_path / "customer-keys.pcap", 440.0, 40.0, dtmf=[(5000, "1"), (14000, "1")])
            customer_phone = await pbx.phones.agent("customer-phone", customer_port, answer_ms=300, audio=keyed)
            order = (await sara.call("POST", "/api/work_orders", {
                "conversation_id": conversation_id, "type": "complaint",
                "fields": {"subject": "a rude crew", "description": "they left the gate open",
                           "phone": "+8613800138000"}}, expect=201))["work_order"]
            await sara.call("POST", f"/api/work_orders/{order['id']}/close", {})

            async def reopened() -> dict[str, Any] | None:
                found = (await sara.call("GET", f"/api/work_orders/{order['id']}"))["work_order"]
                return found if found["state"] == "reopened" else None

            done = await eventually(reopened, timeout=60)
            assert (done["survey_score"], done["escalation"]) == (1, "supervisor")
            assert [h["action"] for h in done["history"]] == [
                "create", "close", "survey_call", "survey_answered", "reopen"]
            assert await customer_phone.wait(timeout=30) == 0, customer_phone.output()
            # The call is in the conversation's timeline (the order's history as private notes).
            view = await sara.call("GET", f"/api/conversations/{conversation_id}")
            notes = [e["message"]["text"] for e in view["timeline"]
                     if e["kind"] == "message" and e["message"]["private"]]
            assert any("survey call - attempt 1" in note for note in notes), notes

            # 3. Another closed order: the customer's phone rings out (busy elsewhere, say). With one
            # attempt configured, the SMS question goes instead (the order's survey is "asked").
            ringing = await pbx.phones.agent("customer-rings", customer_port, answer_ms=None)
            other = (await sara.call("POST", "/api/work_orders", {
                "conversation_id": conversation_id, "type": "consultation",
                "fields": {"question": "when is the meter read?", "phone": "+8613800138000"}},
                expect=201))["work_order"]
            await sara.call("POST", f"/api/work_orders/{other['id']}/close", {})

            async def asked_by_sms() -> dict[str, Any] | None:
                found = (await sara.call("GET", f"/api/work_orders/{other['id']}"))["work_order"]
                return found if found["survey"] == "asked" else None

            fallen_back = await eventually(asked_by_sms, timeout=40)
            assert [(h["action"], h["text"]) for h in fallen_back["history"][2:]] == [
                ("survey_call", "attempt 1"), ("survey_call_unanswered", "no_answer"), ("survey_sent", "")]
            assert await ringing.wait(timeout=30) == 0, ringing.output()
        finally:
            await chen.close()
            await sara.close()


@contextlib.asynccontextmanager
async def surveyed_hub(rig: PbxRig, agi_port: int, db_name: str, mongo_url: str, redis_url: str,
                       ) -> AsyncIterator[RunningHub]:
    voice = voice_settings(rig, agi_port, ring_timeout_s=5.0, recordings_dir_pbx=str(rig.plan.recordings()),
                           survey_timeout_s=3.0, survey_ring_timeout_s=3.0)
    orders = WorkOrdersSettings(sweep_s=1.0, survey_call_attempts=1, survey_call_retry_s=1.0)
    settings = make_settings(db_name, offer_timeout_s=8.0, reoffer_after_s=30.0).model_copy(
        update={"voice": voice, "surveys": SurveySettings(enabled=True), "work_orders": orders})
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as hub:
        await load_demo(hub.context.directory)
        await eventually(lambda: _line_up(hub), timeout=20)
        yield hub


async def _answered(db: Db, conversation_id: str) -> dict[str, Any] | None:
    doc: dict[str, Any] | None = await db["surveys"].find_one({"_id": conversation_id, "state": "answered"})
    return doc
