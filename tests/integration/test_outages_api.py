"""Outages over HTTP with SMS through a real Kannel: the notice and then the restoration notice reach
the area's contacts once each, delivery reports are recorded, roles hold and bad input gets a clear 4xx."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.bootstrap import RunningHub
from hub.bus import RedisEventBus
from hub.clock import SystemClock
from hub.config import OutagesSettings
from hub.domain.outages import NoticeKind
from hub.outages import OutageDesk
from hub.storage.database import Db
from hub.storage.outages import MongoOutageStore
from hub.supervisor import LoopState
from tests.clients import AgentClient
from tests.conftest import eventually
from tests.sms_env import SmsEnv, sms_environment

AREA_PHONES = ["+8613900000001", "+8613900000002", "+8613900000003"]
START = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


@pytest.fixture
async def sms(mongo_url: str, redis_url: str, db_name: str, redis: Any, tmp_path: Path) -> AsyncIterator[SmsEnv]:
    async with sms_environment(mongo_url=mongo_url, redis_url=redis_url, db_name=db_name, directory=tmp_path) as env:
        yield env


async def contacts(db: Db) -> list[str]:
    ids = []
    for i, phone in enumerate([*AREA_PHONES, "+8613700000009"]):
        ids.append(f"k_t{i}")
        await db["contacts"].insert_one({"_id": f"k_t{i}", "display_name": f"T{i}", "identities": [f"sms:{phone}"],
                                         "created_at": START, "open_conversation_id": None})
    return ids


async def test_notice_and_restoration_through_kannel(sms: SmsEnv, db: Db) -> None:
    ids = await contacts(db)
    sara = await AgentClient(sms.hub.base_url).login("sara")
    alice = await AgentClient(sms.hub.base_url).login("alice")
    try:
        for contact_id in ids[:3]:
            await sara.call("PUT", f"/api/contacts/{contact_id}/area", {"area": "Lakeside"})
        await sara.call("PUT", f"/api/contacts/{ids[3]}/area", {"area": "Hillside"})
        assert (await sara.call("GET", f"/api/contacts/{ids[0]}"))["contact"]["area"] == "Lakeside"
        outage = (await sara.call("POST", "/api/outages", {
            "area": "Lakeside", "cause": "storm", "start": START.isoformat(),
            "expected_restoration": (START + timedelta(hours=2)).isoformat()}, expect=201))["outage"]
        active = (await alice.call("GET", "/api/outages?active=1"))["outages"]
        assert [o["id"] for o in active] == [outage["id"]]

        await sara.call("POST", f"/api/outages/{outage['id']}/notices", {"kind": "restored"}, expect=409)
        await sara.call("POST", f"/api/outages/{outage['id']}/notices", {"kind": "outage"}, expect=202)
        for phone in AREA_PHONES:
            [text] = await sms.received(phone, timeout_s=30)
            assert text == "【停电通知】Lakeside自12-03 16:00停电（storm），预计12-03 18:00恢复。"  # noqa: RUF001

        async def progress(kind: str) -> dict[str, Any] | None:
            notice = (await alice.call("GET", f"/api/outages/{outage['id']}/notices/{kind}"))["notice"]
            return notice if notice["state"] == "done" and notice["counts"]["delivered"] == 3 else None

        notice = await eventually(lambda: progress("outage"), timeout=30)
        assert notice["total"] == 3 and notice["counts"]["reports"] >= 3

        restored = (await sara.call("POST", f"/api/outages/{outage['id']}/restore",
                                    {"restored_at": (START + timedelta(hours=1)).isoformat()}))["outage"]
        assert restored["restored_at"].startswith("2026-12-03T09:00")
        await sara.call("POST", f"/api/outages/{outage['id']}/restore", {}, expect=409)
        await sara.call("POST", f"/api/outages/{outage['id']}/notices",
                        {"kind": "restored", "text": "Lakeside: power is back. 已恢复供电。"}, expect=202)
        for phone in AREA_PHONES:
            texts = await sms.received(phone, timeout_s=30, count=2)
            assert texts[1] == "Lakeside: power is back. 已恢复供电。"
        await eventually(lambda: progress("restored"), timeout=30)
        assert sms.texts["+8613700000009"] == []  # Hillside heard nothing
        assert (await alice.call("GET", "/api/outages?active=1"))["outages"] == []

        # Agents read only.
        await alice.call("POST", "/api/outages", {"area": "x", "cause": "y", "start": START.isoformat(),
                                                  "expected_restoration": START.isoformat()}, expect=403)
        await alice.call("POST", f"/api/outages/{outage['id']}/notices", {"kind": "outage"}, expect=403)
        await alice.call("PUT", f"/api/contacts/{ids[0]}/area", {"area": "x"}, expect=403)
    finally:
        await sara.close()
        await alice.close()


@pytest.fixture
async def sms_told_only(mongo_url: str, redis_url: str, db_name: str, redis: Any,
                        tmp_path: Path) -> AsyncIterator[SmsEnv]:
    """SMS as above, with a notice sender that never looks for notices within a test: only a fact
    makes it send."""
    async with sms_environment(mongo_url=mongo_url, redis_url=redis_url, db_name=db_name, directory=tmp_path,
                               settings_update={"outages": OutagesSettings(poll_s=3600.0)}) as env:
        yield env


async def test_a_notice_started_by_another_process_is_sent_at_once(sms_told_only: SmsEnv, db: Db,
                                                                   redis: Any) -> None:
    hub, sara = sms_told_only.hub, await AgentClient(sms_told_only.hub.base_url).login("sara")
    try:
        await eventually(lambda: any(s.name == "outages:notices" and s.state == LoopState.RUNNING
                                     for s in hub.context.probes.loops()))
        ids = await contacts(db)
        for contact_id in ids[:3]:
            await sara.call("PUT", f"/api/contacts/{contact_id}/area", {"area": "Lakeside"})
        outage = (await sara.call("POST", "/api/outages", {
            "area": "Lakeside", "cause": "storm", "start": START.isoformat(),
            "expected_restoration": (START + timedelta(hours=2)).isoformat()}, expect=201))["outage"]
        # Another hub process's desk starts the notice: its document, then its fact on the seam.
        async with RedisEventBus(redis) as other_bus:
            other_desk = OutageDesk(store=MongoOutageStore(db), bus=other_bus, clock=SystemClock(),
                                    time_zone="Asia/Shanghai", intent="outage_status", sms_enabled=True)
            await other_desk.start_notice(outage["id"], NoticeKind.OUTAGE, "Lakeside: 停电通知", by="u_sara")
            for phone in AREA_PHONES:
                assert await sms_told_only.received(phone, timeout_s=30) == ["Lakeside: 停电通知"]
    finally:
        await sara.close()


async def test_bad_input_gets_a_clear_4xx(hub: RunningHub) -> None:
    sara = await AgentClient(hub.base_url).login("sara")
    try:
        good = {"area": "Lakeside", "cause": "storm", "start": START.isoformat(),
                "expected_restoration": (START + timedelta(hours=2)).isoformat()}
        for change in [{"area": ""}, {"area": "x" * 81}, {"cause": ""}, {"start": "yesterday"},
                       {"start": "2026-12-03T08:00:00"}, {"expected_restoration": START.isoformat()},
                       {"cause": "\ud800"}]:
            answer = await sara.call("POST", "/api/outages", {**good, **change}, expect=400)
            assert answer["error"]["message"], change
        outage = (await sara.call("POST", "/api/outages", good, expect=201))["outage"]
        await sara.call("GET", "/api/outages?active=maybe", expect=400)
        await sara.call("GET", "/api/outages/out_missing", expect=404)
        await sara.call("POST", f"/api/outages/{outage['id']}/notices", {"kind": "everyone"}, expect=400)
        await sara.call("POST", f"/api/outages/{outage['id']}/notices", {"kind": "outage", "text": "x" * 481},
                        expect=400)
        # No SMS configured on this hub: a clear 503, nothing queued.
        await sara.call("POST", f"/api/outages/{outage['id']}/notices", {"kind": "outage"}, expect=503)
        await sara.call("GET", f"/api/outages/{outage['id']}/notices/outage", expect=404)
        await sara.call("GET", f"/api/outages/{outage['id']}/notices/other", expect=400)
        await sara.call("POST", f"/api/outages/{outage['id']}/restore",
                        {"restored_at": (START - timedelta(hours=1)).isoformat()}, expect=400)
        await sara.call("POST", "/api/outages/out_missing/restore", {}, expect=404)
        await sara.call("PUT", "/api/contacts/k_missing/area", {"area": "Lakeside"}, expect=404)
        await sara.call("PUT", "/api/contacts/k_missing/area", {"area": ""}, expect=400)
        await sara.call("PUT", "/api/contacts/k_missing/area", {}, expect=400)
    finally:
        await sara.close()


@pytest.fixture
async def sms_slow(mongo_url: str, redis_url: str, db_name: str, redis: Any, tmp_path: Path) -> AsyncIterator[SmsEnv]:
    """SMS as above with notices paced at 4 SMS a second: a notice to 40 contacts takes 10 s."""
    async with sms_environment(mongo_url=mongo_url, redis_url=redis_url, db_name=db_name, directory=tmp_path,
                               settings_update={"outages": OutagesSettings(sms_per_s=4.0)}) as env:
        yield env


async def test_a_cancelled_notice_stops_before_its_next_batch(sms_slow: SmsEnv, db: Db) -> None:
    """A notice to 40 contacts is cancelled after its first SMS: no more go out, its progress says how
    many Kannel took, and a notice started after it is sent (the sender moved on); 409 once cancelled."""
    phones = [f"+86139100000{i:02d}" for i in range(40)]
    await db["contacts"].insert_many([
        {"_id": f"k_c{i}", "display_name": f"C{i}", "identities": [f"sms:{phone}"], "created_at": START,
         "open_conversation_id": None, "area": "Riverside", "area_key": "riverside"} for i, phone in enumerate(phones)])
    await db["contacts"].insert_one({"_id": "k_h", "display_name": "H", "identities": ["sms:+8613700000099"],
                                     "created_at": START, "open_conversation_id": None, "area": "Hillside",
                                     "area_key": "hillside"})
    sara = await AgentClient(sms_slow.hub.base_url).login("sara")
    alice = await AgentClient(sms_slow.hub.base_url).login("alice")
    try:
        async def outage(area: str) -> str:
            created = await sara.call("POST", "/api/outages", {
                "area": area, "cause": "flood", "start": START.isoformat(),
                "expected_restoration": (START + timedelta(hours=2)).isoformat()}, expect=201)
            return str(created["outage"]["id"])

        river, hill = await outage("Riverside"), await outage("Hillside")
        await sara.call("POST", f"/api/outages/{river}/notices", {"kind": "outage", "text": "Riverside: 停电"},
                        expect=202)
        await sms_slow.received(phones[0], timeout_s=30)  # the first batch went out
        await alice.call("POST", f"/api/outages/{river}/notices/outage/cancel", expect=403)
        cancelled = (await sara.call("POST", f"/api/outages/{river}/notices/outage/cancel"))["notice"]
        assert cancelled["state"] == "cancelled" and cancelled["cancelled_at"] is not None
        await sara.call("POST", f"/api/outages/{river}/notices/outage/cancel", expect=409)
        await sara.call("POST", f"/api/outages/{river}/notices/restored/cancel", expect=404)
        await sara.call("POST", f"/api/outages/{river}/notices/other/cancel", expect=400)

        # The sender works through notices one after another: Hillside's SMS means Riverside's run ended.
        await sara.call("POST", f"/api/outages/{hill}/notices", {"kind": "outage", "text": "Hillside: 停电"},
                        expect=202)
        assert await sms_slow.received("+8613700000099", timeout_s=30) == ["Hillside: 停电"]
        final = (await sara.call("GET", f"/api/outages/{river}/notices/outage"))["notice"]
        reached = [p for p in phones if sms_slow.texts[p]]
        assert final["state"] == "cancelled" and final["total"] == 40
        assert 1 <= len(reached) == final["counts"]["submitted"] < 40, (len(reached), final["counts"])
        listed = {o["id"]: o for o in (await alice.call("GET", "/api/outages"))["outages"]}
        assert [(n["kind"], n["state"], n["counts"]["submitted"]) for n in listed[river]["notices"]] == [
            ("outage", "cancelled", len(reached))]
        assert listed[hill]["notices"][0]["state"] in ("sending", "done") and listed[hill]["notices"][0]["text"] is None
        trail = await db["audit"].find_one({"type": "outage.notice_cancelled", "target": river})
        assert trail is not None
    finally:
        await sara.close()
        await alice.close()
