"""The satisfaction survey by SMS through a real Kannel (bearerbox + smsbox) and the fake SMSC:
the question after the agent resolved, "6" asked again, "4" stored, never a third question, and
Kannel's repeat of the answer taken as a repeat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hub.config import SurveySettings
from hub.storage.database import Db
from tests.clients import AgentClient
from tests.conftest import eventually
from tests.sms_env import SHORT_CODE, SmsEnv, get, sms_environment

PHONE = "+8613800138001"


@pytest.fixture
async def sms(mongo_url: str, redis_url: str, db_name: str, redis: Any, tmp_path: Path) -> AsyncIterator[SmsEnv]:
    async with sms_environment(mongo_url=mongo_url, redis_url=redis_url, db_name=db_name, directory=tmp_path,
                               settings_update={"surveys": SurveySettings(enabled=True)}) as env:
        yield env


async def test_an_sms_survey_re_asks_a_6_once_and_stores_the_4(sms: SmsEnv, db: Db) -> None:
    alice = await AgentClient.online(sms.hub.base_url, "alice")
    try:
        await sms.smsc.send_mo(PHONE, SHORT_CODE, "my meter reads zero")
        conversation_id = await alice.take_offer(timeout=15)
        await alice.call("POST", f"/api/conversations/{conversation_id}/resolve")
        [asked] = await sms.received(PHONE, timeout_s=20)
        assert "1" in asked and "5" in asked

        await sms.smsc.send_mo(PHONE, SHORT_CODE, "6")
        texts = await sms.received(PHONE, timeout_s=20, count=2)
        assert texts == [asked, asked]  # the one re-ask

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
        assert await sms.received(PHONE, timeout_s=5) == [asked, asked]  # never a third question
    finally:
        await alice.close()
