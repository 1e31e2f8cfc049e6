"""SMS end to end through a real Kannel (bearerbox + smsbox, scripts/kannel.sh) and a fake SMSC.

customer phone (fake SMSC) -> Kannel -> GET /channels/sms/mo -> hub -> agent console, and back:
agent reply -> outbox -> Kannel sendsms -> fake SMSC, with Kannel's delivery reports moving the
message to delivered as the console sees it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hub.storage.database import Db
from tests.clients import AgentClient
from tests.conftest import eventually
from tests.sms_env import SHORT_CODE, SmsEnv, get, sms_environment

PHONE = "+8613800138000"
ASK = "您好，我家停电了，什么时候恢复？"  # noqa: RUF001 (Chinese punctuation)
ANSWER = "您好！抢修人员已出发，预计一小时内恢复供电。😀"  # noqa: RUF001


@pytest.fixture
async def sms(mongo_url: str, redis_url: str, db_name: str, redis: Any, tmp_path: Path) -> AsyncIterator[SmsEnv]:
    async with sms_environment(mongo_url=mongo_url, redis_url=redis_url, db_name=db_name,
                               directory=tmp_path) as env:
        yield env


@pytest.fixture
async def agent(sms: SmsEnv) -> AsyncIterator[AgentClient]:
    alice = await AgentClient.online(sms.hub.base_url, "alice")
    yield alice
    await alice.close()


async def _conversation_with(agent: AgentClient, sms: SmsEnv, text: str) -> str:
    await sms.smsc.send_mo(PHONE, SHORT_CODE, text)
    return await agent.take_offer(timeout=15)


def _messages(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["message"] for e in view["timeline"] if e["kind"] == "message"]


async def test_chinese_sms_to_agent_and_reply_delivered(sms: SmsEnv, agent: AgentClient) -> None:
    conversation_id = await _conversation_with(agent, sms, ASK)
    view = await agent.call("GET", f"/api/conversations/{conversation_id}")
    [inbound] = _messages(view)
    assert (inbound["text"], inbound["channel"], inbound["author"]) == (ASK, "sms", "customer")

    reply = await agent.reply(conversation_id, ANSWER)
    assert reply["status"] == "queued"
    assert await sms.received(PHONE, timeout_s=15) == [ANSWER]
    # Kannel's DLRs: 8 (SMSC ack) -> sent, 1 (delivered to the phone) -> delivered, pushed to the console.
    statuses = [(await agent.next("status", message_id=reply["id"], timeout=15))["status"]]
    while statuses[-1] != "delivered":
        statuses.append((await agent.next("status", message_id=reply["id"], timeout=15))["status"])
    assert statuses in (["sent", "delivered"], ["delivered"])
    view = await agent.call("GET", f"/api/conversations/{conversation_id}")
    assert [m["status"] for m in _messages(view) if m["id"] == reply["id"]] == ["delivered"]


async def test_reply_comes_from_the_number_the_customer_wrote_to(sms: SmsEnv, agent: AgentClient) -> None:
    await sms.smsc.send_mo(PHONE, "95598", "hello")
    conversation_id = await agent.take_offer(timeout=15)
    await agent.reply(conversation_id, "Hi, how can we help?")
    mt = await _next_mt_to(sms, PHONE)
    assert (mt.sender, mt.kind, mt.text()) == ("95598", "text", "Hi, how can we help?")


async def _next_mt_to(sms: SmsEnv, phone: str) -> Any:
    await sms.stop_collecting()  # read the raw MT (sender, coding) instead of the collected text
    mt = await sms.smsc.next_mt(15)
    assert mt.receiver == phone
    return mt


async def test_long_reply_is_concatenated_within_max_segments(sms: SmsEnv, agent: AgentClient) -> None:
    conversation_id = await _conversation_with(agent, sms, "long answer please")
    long_text = " ".join(["电费账单已经寄出"] * 100)  # 899 UCS-2 units: 14 parts, over the 10 allowed
    await agent.reply(conversation_id, long_text)
    texts = await sms.received(PHONE, timeout_s=20, count=2)
    assert len(texts) == 2 and " ".join(texts) == long_text


async def test_reply_over_the_sms_limit_is_refused_whole(sms: SmsEnv, agent: AgentClient) -> None:
    """Over ``sms.max_reply_segments`` (30) a reply is refused with a clear 400, never cut (ADR 0046)."""
    conversation_id = await _conversation_with(agent, sms, "very long answer please")
    view = await agent.call("GET", f"/api/conversations/{conversation_id}")
    assert view["limits"]["reply"] == {"unit": "sms_segments", "max": 30}
    too_long = "电" * (67 * 30 + 1)  # 31 UCS-2 parts
    refused = await agent.call("POST", f"/api/conversations/{conversation_id}/messages", {"text": too_long},
                               expect=400)
    assert refused["error"]["code"] == "too_long" and "31 SMS segments" in refused["error"]["message"]
    view = await agent.call("GET", f"/api/conversations/{conversation_id}")
    assert [m["author"] for m in _messages(view)] == ["customer"]
    # Chinese characters only: U+7535 in UTF-16BE is the bytes of "u5"; the harness reads the
    # parts' coding from Kannel's log, not from the bytes (tests/sms_env.py).
    at_limit = "电" * (67 * 30)  # 2010 UCS-2 units: exactly 30 parts
    assert (await agent.reply(conversation_id, at_limit))["status"] == "queued"
    texts = await sms.received(PHONE, timeout_s=20, count=3)  # as three SMS of at most 10 parts
    assert "".join(texts) == at_limit


async def test_an_agents_file_goes_out_as_a_signed_link(sms: SmsEnv, agent: AgentClient) -> None:
    """SMS carries no files: the agent's PDF goes out as its name and a signed link (ADR 0046) that
    fetches it without a session; a changed signature or file id gets nothing."""
    from tests.integration.test_agent_files import PDF, upload

    conversation_id = await _conversation_with(agent, sms, "send me the bill please")
    status, answer = await upload(agent, conversation_id, PDF, "bill.pdf", text="Your bill:")
    assert status == 201, answer
    [text] = await sms.received(PHONE, timeout_s=15)
    caption, link_line = text.split("\n")
    assert caption == "Your bill:" and link_line.startswith("bill.pdf: http")
    link = link_line.split(": ", 1)[1]
    assert link == f"{sms.hub.base_url}/files/{answer['message']['attachments'][0]['id']}" + link[link.index("?"):]
    async with aiohttp.ClientSession() as anyone:
        async with anyone.get(link) as resp:
            assert resp.status == 200 and await resp.read() == PDF
            assert resp.headers["Content-Disposition"].startswith("attachment;")
        async with anyone.get(link[:-1] + ("0" if link[-1] != "0" else "1")) as resp:
            assert resp.status == 403
        async with anyone.get(link.replace("/files/a", "/files/b", 1)) as resp:
            assert resp.status == 403


async def test_mo_repeated_by_kannel_is_stored_once(sms: SmsEnv, agent: AgentClient) -> None:
    conversation_id = await _conversation_with(agent, sms, "meter 0451")
    stored = await sms.hub.context.messages.timeline(conversation_id, include_private=True)
    external_id = stored[0].external_id
    # Kannel repeats an MO with the same %I when our 200 got lost: replay its query.
    params = {"secret": sms.secret, "from": PHONE, "to": SHORT_CODE, "text": "meter 0451", "coding": "0",
              "charset": "UTF-8", "id": external_id.removeprefix("kannel:"), "ts": "0", "smsc": "fake1", "udh": ""}
    assert (await get(sms.mo_url, params))[0] == 200
    again = await sms.hub.context.messages.timeline(conversation_id, include_private=True)
    assert [m.text for m in again] == ["meter 0451"]


async def test_kannel_down_reply_waits_in_the_outbox_then_goes_out(sms: SmsEnv, agent: AgentClient,
                                                                  db: Db) -> None:
    conversation_id = await _conversation_with(agent, sms, "are you there?")
    await sms.kannel_down()
    reply = await agent.reply(conversation_id, "稍等，我们查一下。")  # noqa: RUF001
    messages = sms.hub.context.messages

    async def retried() -> bool:
        doc = await db["outbox"].find_one({"_id": reply["id"]})
        return bool(doc and doc["outbox"]["state"] == "pending" and doc["outbox"].get("error"))

    await eventually(retried, timeout=10)
    assert (await messages.get(reply["id"])).status.value == "queued"  # type: ignore[union-attr]
    await sms.kannel_up()
    # The outbox's second try comes 2 s after the first failure.
    assert await sms.received(PHONE, timeout_s=20) == ["稍等，我们查一下。"]  # noqa: RUF001
    status = await agent.next("status", message_id=reply["id"], status="delivered", timeout=15)
    assert status["status"] == "delivered"


# -- bad input on the two endpoints: clear 4xx, nothing stored, the hub keeps serving -------------

def _good_mo(sms: SmsEnv, **changes: str) -> dict[str, str]:
    return {"secret": sms.secret, "from": "+8613900000000", "to": SHORT_CODE, "text": "fuzz", "coding": "0",
            "charset": "UTF-8", "id": "0a1b2c3d-0000-4000-8000-000000000001", **changes}


async def test_fuzz_mo_and_dlr(sms: SmsEnv, db: Db) -> None:
    mo, dlr = sms.mo_url, f"{sms.hub.base_url}/channels/sms/dlr"
    cases: list[tuple[str, dict[str, str] | None, int]] = [
        (mo, _good_mo(sms, secret="wrong-secret-wrong-secret"), 403),
        (mo, {k: v for k, v in _good_mo(sms).items() if k != "secret"}, 403),
        (mo, _good_mo(sms, **{"from": "not a phone"}), 400),
        (mo, _good_mo(sms, id=""), 400),
        (mo, _good_mo(sms, charset="NOPE-1"), 400),
        (mo, _good_mo(sms, coding="9"), 400),
        (mo, _good_mo(sms, text="x" * 2001), 413),
        (mo, _good_mo(sms, text="查" * 780), 413),  # 7020 bytes of text in the query: over max_query_bytes
        (mo, _good_mo(sms, text="查" * 1000), 400),  # over aiohttp's 8190-byte request line
        (dlr, {"secret": "wrong-secret-wrong-secret", "ref": "m_x", "status": "1"}, 403),
        (dlr, {"secret": sms.secret, "ref": "m_x", "status": "3"}, 400),
        (dlr, {"secret": sms.secret, "ref": "../etc", "status": "1"}, 400),
        (dlr, {"secret": sms.secret, "ref": "m_unknown", "status": "1"}, 404),
    ]
    for url, params, expected in cases:
        status, _ = await get(url, params)
        assert status == expected, (url, params and {k: v[:20] for k, v in params.items()}, status)
    async with aiohttp.ClientSession() as http:
        for raw in ("secret=%ZZ&from=1", "&&&=", "secret", "text=%E6%9F", "a=" + "%" * 50):
            async with http.get(f"{mo}?{raw}") as response:
                assert response.status in (400, 403), raw
        async with http.post(mo, data=b"x" * 100_000) as response:
            assert response.status == 405
    assert await db["messages"].count_documents({}) == 0
    assert await db["contacts"].count_documents({}) == 0
    # still serving: a real MO goes through
    await sms.smsc.send_mo(PHONE, SHORT_CODE, "still there?")
    await eventually(lambda: db["messages"].count_documents({"text": "still there?"}), timeout=10)
