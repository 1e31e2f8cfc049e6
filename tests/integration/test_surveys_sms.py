"""The satisfaction survey by SMS through a real Kannel (bearerbox + smsbox) and the fake SMSC:
the question after the agent resolved, "6" asked again, "4" stored, never a third question, and
Kannel's repeat of the answer taken as a repeat. With the customer's notices on (issue 16 item 6):
an SMS to a queue outside its business hours is answered "we open at ...", and the agent's resolve
with a closing line."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.config import NoticeSettings, SurveySettings
from hub.domain.business_hours import DAYS
from hub.storage.database import Db
from tests.clients import AgentClient
from tests.conftest import eventually
from tests.sms_env import SHORT_CODE, SmsEnv, get, sms_environment

PHONE = "+8613800138001"


@pytest.fixture
async def sms(mongo_url: str, redis_url: str, db_name: str, redis: Any, tmp_path: Path) -> AsyncIterator[SmsEnv]:
    async with sms_environment(mongo_url=mongo_url, redis_url=redis_url, db_name=db_name, directory=tmp_path,
                               settings_update={"surveys": SurveySettings(enabled=True),
                                                "notices": NoticeSettings(enabled=True)}) as env:
        yield env


async def test_an_sms_survey_re_asks_a_6_once_and_stores_the_4(sms: SmsEnv, db: Db) -> None:
    # The general queue opens only tomorrow (the centre's zone): closed all of today.
    directory = sms.hub.context.directory
    tomorrow = (datetime.now(UTC) + timedelta(hours=8) + timedelta(days=1)).weekday()  # Asia/Shanghai is UTC+8
    await directory.put_queue(replace(await directory.queue("general"), hours={DAYS[tomorrow]: "08:00-09:00"}))
    alice = await AgentClient.online(sms.hub.base_url, "alice")
    try:
        await sms.smsc.send_mo(PHONE, SHORT_CODE, "my meter reads zero")
        [closed_now] = await sms.received(PHONE, timeout_s=20)
        assert closed_now.startswith("We are closed now. We open at ") and "08:00" in closed_now
        conversation_id = await alice.take_offer(timeout=15)  # queued all the same: agents see it
        await alice.call("POST", f"/api/conversations/{conversation_id}/resolve")
        texts = await sms.received(PHONE, timeout_s=20, count=3)
        [asked] = [t for t in texts[1:] if "1" in t and "5" in t]
        assert [t for t in texts[1:] if t != asked] == [
            "This conversation is resolved. Thank you for contacting us; write again any time."]

        await sms.smsc.send_mo(PHONE, SHORT_CODE, "6")
        texts = await sms.received(PHONE, timeout_s=20, count=4)
        assert [t for t in texts if t == asked] == [asked, asked]  # the one re-ask

        await sms.smsc.send_mo(PHONE, SHORT_CODE, "4")

        async def closed() -> bool:
            return (await sms.hub.context.conversations.get(conversation_id)).state.value == "closed"

        await eventually(closed, timeout=20)
        survey = await db["surveys"].find_one({"_id": conversation_id})
        assert (survey["state"], survey["score"], survey["reasks"], survey["agent_id"], survey["queue"]) == (
            "answered", 4, 1, alice.agent["id"], "general")
        event = await db["events"].find_one({"conversation_id": conversation_id, "type": "survey_answered"})
        assert (event["detail"]["score"], event["channel"]) == ("4", "sms")

        # Kannel repeats the MO when our 200 was lost: the same id is a repeat, not a new message.
        ref = next(r for r in survey["refs"] if r != survey["refs"][0]).removeprefix("sms:kannel:")
        params = {"secret": sms.secret, "from": PHONE, "to": SHORT_CODE, "text": "4", "coding": "0",
                  "charset": "UTF-8", "id": ref, "ts": "0", "smsc": "fake1", "udh": ""}
        assert (await get(sms.mo_url, params))[0] == 200
        assert await db["conversations"].count_documents({}) == 1  # no conversation from any answer
        assert [t for t in await sms.received(PHONE, timeout_s=5) if t == asked] == [asked, asked]  # never a third
    finally:
        await alice.close()
