"""Work orders against the real components: SMS through a real Kannel and its fake SMSC, MongoDB
(SecantusDB), Redis and the hub's HTTP API.

The loop: a customer reports a fault by SMS, an agent opens a repair order, dispatches it, the
department replies in the console, the customer gets an SMS at each step, the order closes, the
survey answer "1" reopens it for a supervisor. Then the timers and a breach with a clock the test
moves (working days and holidays from the settings), who sees what, and bad input.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from redis.asyncio import Redis

from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.clock import SystemClock, parse_iso
from hub.config import Settings, SurveySettings, WorkOrdersSettings
from hub.domain.ids import ExternalId
from hub.domain.model import InboundMessage
from hub.storage.database import Db
from hub.work_orders.sweep import configured_policy
from tests.clients import AgentClient
from tests.conftest import eventually
from tests.sms_env import SHORT_CODE, SmsEnv, sms_environment

PHONE = "+8613900139000"
FAULT = "家里停电了，地址是人民路1号"  # noqa: RUF001
REPAIR = {"address": "1 Renmin Road", "phone": PHONE, "area": "urban", "description": "no power since 8 am"}


@pytest.fixture
async def sms(mongo_url: str, redis_url: str, db_name: str, redis: Any, tmp_path: Path) -> AsyncIterator[SmsEnv]:
    async with sms_environment(mongo_url=mongo_url, redis_url=redis_url, db_name=db_name,
                               directory=tmp_path) as env:
        yield env


async def test_a_repair_order_closed_in_a_loop_by_sms(sms: SmsEnv, db: Db) -> None:
    base = sms.hub.base_url
    alice, dora, max_ = (await AgentClient.online(base, "alice"), await AgentClient(base).login("dora"),
                         await AgentClient(base).login("max"))
    try:
        await sms.smsc.send_mo(PHONE, SHORT_CODE, FAULT)
        conversation_id = await alice.take_offer(timeout=20)
        created = (await alice.call("POST", "/api/work_orders", {
            "conversation_id": conversation_id, "type": "repair", "fields": REPAIR}, expect=201))["work_order"]
        number, order_id = created["number"], created["id"]
        assert created["state"] == "open" and created["timers"]["first_response"]["budget_s"] == 45 * 60
        assert number in (await sms.received(PHONE, 20, count=1))[0]

        await alice.call("POST", f"/api/work_orders/{order_id}/dispatch", {"department": "repair_north"})
        texts = await sms.received(PHONE, 20, count=2)
        assert "North district repair crew" in texts[1]

        # The department sees its order, another department does not.
        assert [o["number"] for o in (await dora.call("GET", "/api/work_orders"))["work_orders"]] == [number]
        assert (await max_.call("GET", "/api/work_orders"))["work_orders"] == []
        await max_.call("GET", f"/api/work_orders/{order_id}", expect=403)
        await max_.call("POST", f"/api/work_orders/{order_id}/reply", {"text": "not ours"}, expect=403)
        await max_.call("GET", f"/api/conversations/{conversation_id}", expect=403)

        await dora.call("POST", f"/api/work_orders/{order_id}/acknowledge", {"text": "crew on site"})
        replied = (await dora.call("POST", f"/api/work_orders/{order_id}/reply",
                                   {"text": "A blown fuse was replaced; power is back."}))["work_order"]
        assert replied["state"] == "replied" and replied["timers"]["resolution"]["state"] == "met"
        assert "blown fuse" in (await sms.received(PHONE, 20, count=3))[2]

        await alice.call("POST", f"/api/work_orders/{order_id}/close", {})
        texts = await sms.received(PHONE, 20, count=5)  # the closure, then the callback survey
        assert "closed" in texts[3] and f"Reply {number}" in texts[4]

        # She resolved the conversation meanwhile: the answer only answers the survey (it opened a new
        # conversation before: a queued chat for nobody's question).
        await alice.call("POST", f"/api/conversations/{conversation_id}/resolve")
        await sms.smsc.send_mo(PHONE, SHORT_CODE, "1")

        async def reopened() -> dict[str, Any] | None:
            order = (await alice.call("GET", f"/api/work_orders/{order_id}"))["work_order"]
            return order if order["state"] == "reopened" else None

        order = await eventually(reopened, timeout=20)
        assert (order["survey_score"], order["escalation"]) == (1, "supervisor")
        assert [h["action"] for h in order["history"]] == [
            "create", "dispatch", "acknowledge", "reply", "close", "survey_sent", "survey_answered", "reopen"]
        assert "reopened" in (await sms.received(PHONE, 20, count=6))[5]
        assert await db["conversations"].count_documents({}) == 1  # the answer opened none

        # The whole history is in the conversation's timeline too (private notes), with the SMS sent.
        view = await alice.call("GET", f"/api/conversations/{conversation_id}")
        messages = [e["message"] for e in view["timeline"] if e["kind"] == "message"]
        notes = [m["text"] for m in messages if m["author"] == "system" and m["private"]]
        assert len(notes) == 8 and all(note.startswith(f"Work order {number}") for note in notes)
        told = [m for m in messages if m["author"] == "system" and not m["private"]]
        assert len(told) == 6 and {m["channel"] for m in told} == {"sms"}
    finally:
        for client in (alice, dora, max_):
            await client.close()


@pytest.fixture
async def sms_surveys(mongo_url: str, redis_url: str, db_name: str, redis: Any,
                      tmp_path: Path) -> AsyncIterator[SmsEnv]:
    async with sms_environment(mongo_url=mongo_url, redis_url=redis_url, db_name=db_name, directory=tmp_path,
                               settings_update={"surveys": SurveySettings(enabled=True)}) as env:
        yield env


async def test_a_reply_naming_the_order_passes_the_conversation_survey_by(sms_surveys: SmsEnv) -> None:
    """The conversation's satisfaction survey (hub/surveys) and the order's both wait for a digit:
    a reply naming the order number is the order's, even while the conversation's survey is open."""
    sms = sms_surveys
    alice, sara = await AgentClient.online(sms.hub.base_url, "alice"), await AgentClient(sms.hub.base_url).login("sara")
    phone = "+8613900139111"
    try:
        await sms.smsc.send_mo(phone, SHORT_CODE, "我要投诉抄表员")
        conversation_id = await alice.take_offer(timeout=20)
        order = (await alice.call("POST", "/api/work_orders", {
            "conversation_id": conversation_id, "type": "complaint", "department": "customer_relations",
            "fields": {"subject": "meter reader", "description": "rude on the phone"}}, expect=201))["work_order"]
        await sara.call("POST", f"/api/work_orders/{order['id']}/reply", {"text": "We apologised to you."})
        await sara.call("POST", f"/api/work_orders/{order['id']}/close", {})
        await sms.received(phone, 20, count=5)  # created, dispatched, replied, closed, the order's survey
        await alice.call("POST", f"/api/conversations/{conversation_id}/resolve")
        texts = await sms.received(phone, 20, count=6)  # the conversation's own survey
        assert "5 (very satisfied)" in texts[5] and "WO" not in texts[5]

        await sms.smsc.send_mo(phone, SHORT_CODE, f"{order['number']} 2")

        async def reopened() -> dict[str, Any] | None:
            found = (await sara.call("GET", f"/api/work_orders/{order['id']}"))["work_order"]
            return found if found["state"] == "reopened" else None

        assert (await eventually(reopened, timeout=20))["survey_score"] == 2
    finally:
        await alice.close()
        await sara.close()


class SteppedClock:
    """The system clock plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return SystemClock().now() + self.offset


ZONE = ZoneInfo("Asia/Shanghai")


def _next_days(count: int) -> list[date]:
    """Today and the days after it, in the centre's zone."""
    today = datetime.now(ZONE).date()
    return [today + timedelta(days=n) for n in range(count)]


@pytest.fixture
async def stepped(settings: Settings, mongo_url: str, redis_url: str,
                  redis: Redis) -> AsyncIterator[tuple[RunningHub, SteppedClock, Settings]]:
    # Today and the next two local days are holidays: a working-day timer started now skips them.
    holidays = [d.isoformat() for d in _next_days(3)]
    settings = settings.model_copy(update={"work_orders": WorkOrdersSettings(sweep_s=0.2, holidays=holidays)})
    clock = SteppedClock()
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url, clock=clock) as running:
        await load_demo(running.context.directory)
        yield running, clock, settings


async def _conversation(hub: RunningHub, phone: str) -> str:
    received = await hub.context.inbox.accept_inbound(InboundMessage(
        channel="sms", external_id=ExternalId(f"mo-{phone}"), sender=phone, text="I want to complain",
        received_at=SystemClock().now()))
    return str(received.conversation.id)


async def test_timers_warn_breach_and_escalate_on_the_test_clock(
        stepped: tuple[RunningHub, SteppedClock, Settings]) -> None:
    hub, clock, settings = stepped
    sara = await AgentClient(hub.base_url).login("sara")
    try:
        conversation_id = await _conversation(hub, "+8613700137000")
        complaint = (await sara.call("POST", "/api/work_orders", {
            "conversation_id": conversation_id, "type": "complaint", "department": "customer_relations",
            "fields": {"subject": "rude crew", "description": "the crew was rude"}}, expect=201))["work_order"]
        repair = (await sara.call("POST", "/api/work_orders", {
            "conversation_id": conversation_id, "type": "repair", "department": "repair_north",
            "fields": {**REPAIR, "area": "rural"}}, expect=201))["work_order"]
        created = parse_iso(complaint["created_at"])
        policy = configured_policy(settings.work_orders, settings.kpi.time_zone)
        due = parse_iso(complaint["timers"]["first_response"]["due_at"])
        assert due == policy.calendar.add(created, policy.calendar.day_seconds)
        assert due.astimezone(ZONE).date() > _next_days(3)[-1]  # the holidays are skipped
        assert parse_iso(repair["timers"]["first_response"]["due_at"]) == parse_iso(repair["created_at"]) + \
            timedelta(minutes=90)

        clock.offset = timedelta(minutes=75)  # 83 % of the rural arrival: a warning, no breach yet

        async def orders(query: str) -> list[dict[str, Any]]:
            return (await sara.call("GET", f"/api/work_orders?{query}"))["work_orders"]

        async def warned() -> bool:
            return any(o["number"] == repair["number"] and o["warned"] == ["first_response"]
                       for o in await orders("state=dispatched"))

        await eventually(warned, timeout=15)
        assert await orders("breached=true") == []

        clock.offset = timedelta(minutes=91)
        breached = await eventually(lambda: orders("breached=true"), timeout=15)
        assert [(o["number"], o["breached"], o["escalation"]) for o in breached] == [
            (repair["number"], ["first_response"], "supervisor")]
        assert breached[0]["timers"]["first_response"]["state"] == "breached"

        # Past the complaint's first working day (holidays and nights not counted): its breach
        # escalates up a level from the supervisor only if it is the order's second breach; it is its first.
        clock.offset = max(due - created, timedelta(hours=24)) + timedelta(minutes=1)
        await sara.login("sara")  # the session ran out on the moved clock

        async def both() -> list[dict[str, Any]] | None:
            found = await orders("breached=true")
            return found if sorted(len(o["breached"]) for o in found) == [1, 2] else None

        found = {o["number"]: o for o in await eventually(both, timeout=15)}
        assert found[complaint["number"]]["escalation"] == "supervisor"  # its first breach
        assert found[repair["number"]]["escalation"] == "manager"  # its resolution (24 h) ran out too: up a level
        full = (await sara.call("GET", f"/api/work_orders/{complaint['id']}"))["work_order"]
        assert [h["action"] for h in full["history"]][-1] == "sla_breach"
    finally:
        await sara.close()


async def test_bad_input_gets_a_clear_4xx(hub: RunningHub) -> None:
    sara, tom = await AgentClient(hub.base_url).login("sara"), await AgentClient(hub.base_url).login("tom")
    try:
        conversation_id = await _conversation(hub, "+8613600136000")
        post = "/api/work_orders"
        for payload, status, code in [
            ({"conversation_id": conversation_id, "type": "spaceship", "fields": {}}, 400, "invalid_input"),
            ({"conversation_id": conversation_id, "type": "repair", "fields": {"address": "x"}}, 400, "invalid_input"),
            ({"conversation_id": conversation_id, "type": "meter",
              "fields": {"meter_number": "A1", "address": "x", "description": "y"}}, 400, "invalid_input"),
            ({"conversation_id": "c_nope", "type": "consultation", "fields": {"question": "?"}}, 404, "not_found"),
            ({"conversation_id": conversation_id, "type": "consultation", "fields": {"question": "?"},
              "department": "nowhere"}, 404, "not_found"),
        ]:
            data = await sara.call("POST", post, payload, expect=status)
            assert data["error"]["code"] == code, (payload, data)
        async with sara.session.post(hub.base_url + post, data=b"{not json", headers={"X-CSRF-Token": sara.csrf}) as r:
            assert r.status == 400 and (await r.json())["error"]["code"] == "bad_json"
        order = (await sara.call("POST", post, {"conversation_id": conversation_id, "type": "consultation",
                                               "fields": {"question": "when is my meter read?"}}, expect=201))
        order_id = order["work_order"]["id"]
        await sara.call("POST", f"/api/work_orders/{order_id}/reply", {"text": "x"}, expect=409)  # not dispatched
        await sara.call("POST", f"/api/work_orders/{order_id}/dispatch", {}, expect=400)  # no department
        async with sara.session.post(f"{hub.base_url}/api/work_orders/{order_id}/fly", json={},
                                     headers={"X-CSRF-Token": sara.csrf}) as r:
            assert r.status == 404
        await sara.call("GET", "/api/work_orders/wo_missing", expect=404)
        await sara.call("GET", "/api/work_orders?state=lost", expect=400)
        await sara.call("GET", "/api/work_orders?limit=0", expect=400)
        await sara.call("GET", "/api/work_orders?breached=maybe", expect=400)
        await sara.call("POST", "/api/departments", {"id": "new", "name": "New"}, expect=403)  # admins only
        await tom.call("GET", "/api/work_orders", expect=403)  # trainers see none
        await tom.call("GET", f"/api/work_orders/{order_id}", expect=403)
        await tom.call("POST", post, {"conversation_id": conversation_id, "type": "consultation",
                                      "fields": {"question": "?"}}, expect=403)
        async with aiohttp.ClientSession() as anonymous, anonymous.get(hub.base_url + post) as r:
            assert r.status == 401
        assert (await sara.call("GET", "/api/work_orders/types"))["types"][0]["type"] == "repair"
        assert UTC  # the module's time zone import is used by the stepped test
    finally:
        await sara.close()
        await tom.close()
