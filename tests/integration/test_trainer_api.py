"""The trainer API without Rasa: roles, CSRF, validation, the review list and curation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.training.labels import intent_name
from console.trainer_api import TRAINER
from hub.bootstrap import RunningHub
from tests.clients import AgentClient

READS = ["/api/trainer/turns", "/api/trainer/intents", "/api/trainer/models", "/api/trainer/export",
         "/api/trainer/intents/greet/examples", "/api/trainer/serving"]
WRITES = [("/api/trainer/intents", {"name": "x"}), ("/api/trainer/examples", {"text": "hi", "intent": "greet"}),
          ("/api/trainer/train", {}), ("/api/trainer/turns/t_x/label", {"intent": "greet"}),
          ("/api/trainer/models/m_x/activate", {}), ("/api/trainer/models/m_x/evaluate", {})]


@pytest.fixture
async def tom(hub: RunningHub) -> AsyncIterator[AgentClient]:
    client = await AgentClient(hub.base_url).login("tom")
    yield client
    await client.close()


@pytest.mark.parametrize("username", ["alice", "sara"])
async def test_agents_and_supervisors_get_403(hub: RunningHub, username: str) -> None:
    client = await AgentClient(hub.base_url).login(username)
    try:
        for path in READS:
            assert (await client.call("GET", path, expect=403))["error"]["code"] == "forbidden"
        for path, body in WRITES:
            await client.call("POST", path, body, expect=403)
        await client.call("DELETE", "/api/trainer/examples", {"text": "hello"}, expect=403)
    finally:
        await client.close()


async def test_login_required_and_csrf_checked(hub: RunningHub, tom: AgentClient) -> None:
    async with aiohttp.ClientSession() as anonymous, anonymous.get(hub.base_url + "/api/trainer/turns") as response:
        assert response.status == 401
    tom.csrf, csrf = "", tom.csrf
    assert (await tom.call("POST", "/api/trainer/intents", {"name": "x"}, expect=403))["error"]["code"] == "csrf"
    tom.csrf = csrf


async def test_trainer_reviews_turns_and_curates(hub: RunningHub, tom: AgentClient) -> None:
    log = hub.app[TRAINER].turn_log  # type: ignore[attr-defined]
    await log.record(conversation_id="c_1", text="  is the  power back yet?", intent="outage_status",
                     confidence=0.42, handed_over=True, reason="low_confidence")
    await log.record(conversation_id="c_2", text="hello", intent="greet", confidence=0.99, handed_over=False,
                     reason=None)
    turns = (await tom.call("GET", "/api/trainer/turns"))["turns"]
    assert [(t["text"], t["intent"], t["handed_over"], t["reason"]) for t in turns] == [
        ("is the power back yet?", "outage_status", True, "low_confidence")]  # the sure one is not listed

    await tom.call("POST", "/api/trainer/intents", {"name": "x" * 101}, expect=400)
    await tom.call("POST", "/api/trainer/intents", {"name": "   "}, expect=400)
    made = (await tom.call("POST", "/api/trainer/intents", {"name": "Outage  ETA?"}))["intent"]
    assert made == {"name": intent_name("Outage ETA?"), "label": "Outage ETA?"}  # any label: a safe name
    await tom.call("POST", "/api/trainer/intents", {"name": "outage_eta"})
    example = (await tom.call("POST", f"/api/trainer/turns/{turns[0]['id']}/label", {"intent": "outage_eta"}))
    assert example["example"] == {**example["example"], "intent": "outage_eta", "source": "turn", "by": "tom"}
    assert (await tom.call("GET", "/api/trainer/turns"))["turns"] == []
    reviewed = (await tom.call("GET", "/api/trainer/turns?all=1"))["turns"]
    assert reviewed[0]["reviewed_intent"] == "outage_eta" and reviewed[0]["reviewed_by"] == "tom"
    await tom.call("POST", "/api/trainer/turns/t_nope/label", {"intent": "greet"}, expect=404)

    await tom.call("POST", "/api/trainer/examples", {"text": "when will my power be back", "intent": "outage_eta"})
    intents = {i["name"]: i for i in (await tom.call("GET", "/api/trainer/intents"))["intents"]}
    assert intents["outage_eta"]["examples"] == 2 and not intents["outage_eta"]["has_response"]
    assert intents[made["name"]]["label"] == "Outage ETA?" and intents["outage_eta"]["label"] == "outage_eta"
    assert intents["check_bill"]["examples"] > 50 and intents["check_bill"]["has_response"]  # the seed
    examples = (await tom.call("GET", "/api/trainer/intents/outage_eta/examples"))["examples"]
    assert {e["text"] for e in examples} == {"is the power back yet?", "when will my power be back"}
    files = (await tom.call("GET", "/api/trainer/export"))["files"]
    assert "outage_eta" in files["domain.yml"] and "when will my power be back" in files["data/nlu.yml"]
    # A wrong example is removed by its text (spacing and case as the dedupe key reads them).
    await tom.call("DELETE", "/api/trainer/examples", {"text": "When will my  power be back"})
    await tom.call("DELETE", "/api/trainer/examples", {"text": "When will my  power be back"}, expect=404)
    await tom.call("DELETE", "/api/trainer/examples", {"text": ""}, expect=400)
    examples = (await tom.call("GET", "/api/trainer/intents/outage_eta/examples"))["examples"]
    assert [e["text"] for e in examples] == ["is the power back yet?"]
    files = (await tom.call("GET", "/api/trainer/export"))["files"]
    assert "when will my power be back" not in files["data/nlu.yml"]

    assert (await tom.call("GET", "/api/trainer/models"))["models"] == []
    await tom.call("POST", "/api/trainer/models/m_nope/activate", expect=404)


async def test_the_trainer_page_is_served_with_the_csp(hub: RunningHub) -> None:
    async with aiohttp.ClientSession() as http, http.get(hub.base_url + "/console/trainer") as response:
        assert response.status == 200 and "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert "trainer.js" in await response.text()


async def _upload(client: AgentClient, raw: bytes, query: str = "") -> tuple[int, dict[str, Any]]:
    headers = {"X-CSRF-Token": client.csrf, "Content-Type": "text/csv"}
    async with client.session.post(f"{client.base_url}/api/trainer/import{query}", data=raw, headers=headers) as resp:
        return resp.status, await resp.json()


async def test_a_trainer_uploads_a_csv_of_examples(hub: RunningHub, tom: AgentClient) -> None:
    good = b"text,intent\nmy meter shows zero,meter_fault\nthe meter display is blank,meter_fault\n"
    status, answer = await _upload(tom, good)
    assert status == 200 and answer["report"]["imported"] == 2 and answer["report"]["replaced"] is False
    examples = (await tom.call("GET", "/api/trainer/intents/meter_fault/examples"))["examples"]
    assert {(e["text"], e["source"], e["by"]) for e in examples} == {
        ("my meter shows zero", "import", "tom"), ("the meter display is blank", "import", "tom")}
    intents = {i["name"]: i for i in (await tom.call("GET", "/api/trainer/intents"))["intents"]}
    assert intents["check_bill"]["examples"] > 50  # added to the curated data, never a replace

    bad = b"text,intent\nmy meter is broken again,meter_fault\n,meter_fault\n"
    status, answer = await _upload(tom, bad)
    assert status == 400 and "line 3" in answer["error"]["message"]
    status, answer = await _upload(tom, bad, "?skip_bad=1")
    assert status == 200 and (answer["report"]["imported"], answer["report"]["skipped"]) == (1, 1)
    assert (await _upload(tom, "text,intent\nca\xf1on,x\n".encode("latin-1")))[1]["error"]["code"] == "invalid_text"
    assert (await _upload(tom, b"  \n"))[0] == 400
    assert (await _upload(tom, good, "?skip_bad=yes"))[0] == 400
    sara = await AgentClient(hub.base_url).login("sara")
    try:
        assert (await _upload(sara, good))[0] == 403
    finally:
        await sara.close()
