"""The real Rasa server in front of every conversation: answers, hands over with context, keeps out."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from hub.bootstrap import RunningHub
from tests.clients import AgentClient, WidgetClient
from tests.conftest import eventually

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def hub(bot_hub: RunningHub) -> RunningHub:
    return bot_hub


@pytest.fixture
async def agent(hub: RunningHub) -> AsyncIterator[AgentClient]:
    client = await AgentClient.online(hub.base_url, "alice")  # general + billing
    yield client
    await client.close()


async def bot_answer(widget: WidgetClient) -> dict:
    frame = await widget.next("message", timeout=15)
    assert frame["message"]["author"] == "bot"
    return frame["message"]


async def test_bot_answers_a_bill_question_without_an_agent(hub: RunningHub, agent: AgentClient) -> None:
    async with aiohttp.ClientSession() as http:
        widget = WidgetClient(hub.base_url, http)
        await widget.connect()
        sent = await widget.say("How can I check my electricity bill?")
        answer = await bot_answer(widget)
        assert answer["text"]
        await widget.ws.send_json({"type": "read", "message_ids": [answer["id"]]})  # type: ignore[union-attr]
        assert (await widget.say("what are your opening hours"))["author"] == "customer"

        async def read_stored() -> bool:  # a widget's receipts are gathered for 50 ms (ADR 0062)
            stored = await hub.context.messages.get(answer["id"])
            return stored is not None and stored.status.value == "read"

        await eventually(read_stored, timeout=5)
        conversation = await hub.context.conversations.get(sent["conversation_id"])
        assert conversation.state.value == "bot" and conversation.agent_id is None
        with pytest.raises(TimeoutError):
            await agent.next("offer", timeout=1.0)


async def test_asking_for_a_human_hands_over_with_context_and_the_bot_keeps_out(
        hub: RunningHub, agent: AgentClient) -> None:
    async with aiohttp.ClientSession() as http:
        widget = WidgetClient(hub.base_url, http)
        await widget.connect()
        await widget.say("how do I pay my bill")
        await bot_answer(widget)
        sent = await widget.say("I want to talk to a human agent please")
        offer = await agent.next("offer", timeout=15)
        cid = sent["conversation_id"]
        assert offer["conversation"]["id"] == cid
        handover = offer["conversation"]["handover"]
        assert handover["reason"] == "asked" and handover["intent"] == "talk_to_human"
        assert handover["confidence"] > 0.5
        assert [i["intent"] for i in handover["intents"]][-2:] == ["pay_bill", "talk_to_human"]
        authors = [line["author"] for line in handover["transcript"]]
        assert authors[0] == "customer" and "bot" in authors
        assert offer["conversation"]["queue"] == "billing"  # routed by the earlier intent
        await agent.call("POST", f"/api/conversations/{cid}/accept")

        # Held by a human: the customer's next message never reaches the bot.
        await widget.say("how do I pay my bill")
        await agent.reply(cid, "Hi, I can help with the payment.")
        frame = await widget.next("message")
        assert frame["message"]["author"] == "agent"
        events = await hub.context.conversations.events_of(cid)
        handed_over_at = next(e["at"] for e in events if e["type"] == "handed_over")
        stored = await hub.context.messages.timeline(cid, include_private=True)
        assert [m.text for m in stored if m.author.value == "customer"][-1] == "how do I pay my bill"
        assert [m for m in stored if m.author.value == "bot" and m.sent_at >= handed_over_at] == []

        # After the agent resolves, a returning customer starts with the bot again.
        await agent.call("POST", f"/api/conversations/{cid}/resolve")
        again = await widget.say("hello")
        assert again["conversation_id"] != cid
        assert (await hub.context.conversations.get(again["conversation_id"])).state.value == "bot"


async def test_the_bot_answers_in_the_customers_language(hub: RunningHub) -> None:
    async with aiohttp.ClientSession() as http:
        widget = WidgetClient(hub.base_url, http)
        await widget.connect()
        await widget.say("怎么交电费")
        chinese = await bot_answer(widget)
        assert CJK.search(chinese["text"]) and "Pay" not in chinese["text"]
        assert any(CJK.search(b["title"]) for b in chinese["buttons"])  # 在线缴费, 银行转账, 转人工客服
        await widget.say("and what are your opening hours?")
        english = await bot_answer(widget)
        assert not CJK.search(english["text"]) and "Monday" in english["text"]


async def test_complaints_go_to_humans_by_policy(hub: RunningHub) -> None:
    chen = await AgentClient.online(hub.base_url, "chen")  # has the complaints skill
    try:
        async with aiohttp.ClientSession() as http:
            widget = WidgetClient(hub.base_url, http)
            await widget.connect()
            sent = await widget.say("I want to file a complaint about your rude technician")
            offer = await chen.next("offer", timeout=15)
        assert offer["conversation"]["id"] == sent["conversation_id"]
        assert offer["conversation"]["handover"]["reason"] == "policy"
        assert offer["conversation"]["queue"] == "complaints"
    finally:
        await chen.close()


def test_cli_evaluates_the_running_model_on_the_held_out_set(rasa_url: str, tmp_path: Path) -> None:
    heldout = Path(__file__).resolve().parents[2] / "bot" / "rasa_project" / "data" / "heldout.csv"
    env = {**os.environ, "HUB_BOT__RASA_URL": rasa_url}
    done = subprocess.run([sys.executable, "-m", "hub", "bot", "evaluate", str(heldout), "--json"], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["turns"] == len(heldout.read_text(encoding="utf-8").strip().splitlines()) - 1
    assert result["model_intents"] >= 13
    assert result["intent_accuracy"] > 0.7  # the shipped model on text it never saw
    assert 0 <= result["handover_rate"] <= 1 and result["macro_f1"] > 0.5

    bad = tmp_path / "bad.csv"
    bad.write_text("words,label\nhello,greet\n", encoding="utf-8")
    refused = subprocess.run([sys.executable, "-m", "hub", "bot", "evaluate", str(bad)], env=env,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "text,intent" in refused.stderr
