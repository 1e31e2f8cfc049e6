"""The live hub hands a turn over as out of scope by the active model's own threshold, against the real Rasa.

A model trained through the hub gets its out-of-scope threshold chosen on the held-out validation
split (``bot_models.threshold``, ADR 0044). Once that model is active, the hub decides on the best
real intent of Rasa's ranking against that threshold, instead of Rasa's hand-set fallback and the
configured confidence threshold (ADR 0052). Here the active record is the shipped model itself (what
Rasa serves), with a threshold placed between the confidences the real server gives two questions.
``test_training_loop.py`` checks the same against a model trained and activated by the trainer. While
no model is active, the shipped model's stored threshold decides the same way (ADR 0065).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bot.training.shipped import newest_model, read_evaluation, threshold_of
from console.trainer_api import TRAINER
from hub.bootstrap import RunningHub
from hub.storage.database import Db
from tests.clients import AgentClient, WidgetClient
from tests.conftest import eventually

UNSURE = "the number"  # vague: the shipped model reads it as meter_reading, not very sure (0.41)
SURE = "I moved house"  # move_in_out, sure
ROOT = Path(__file__).resolve().parents[2]


async def best_reading(rasa_url: str, text: str) -> tuple[str, float]:
    """The best real intent of the server's ranking (before Rasa's nlu_fallback) and its confidence."""
    async with aiohttp.ClientSession() as http, http.post(f"{rasa_url}/model/parse", json={"text": text}) as resp:
        ranking = (await resp.json())["intent_ranking"]
    best = next(r for r in ranking if r["name"] != "nlu_fallback")
    return best["name"], float(best["confidence"])


async def test_a_turn_under_the_active_models_threshold_is_handed_over_as_out_of_scope(
        bot_hub: RunningHub, db: Db, rasa_url: str) -> None:
    unsure_intent, unsure = await best_reading(rasa_url, UNSURE)
    sure_intent, sure = await best_reading(rasa_url, SURE)
    assert sure - unsure > 0.1, (unsure, sure)  # the two questions are told apart by confidence
    threshold = round((unsure + sure) / 2, 3)
    now = datetime.now(UTC)
    await db["bot_models"].insert_one({
        "_id": "m-threshold", "status": "active", "progress": 1.0, "phase": "evaluated", "created_at": now,
        "activated_at": now, "by": "tom", "handover_intents": [],
        "threshold": threshold})
    agent = await AgentClient.online(bot_hub.base_url, "alice")
    try:
        async with aiohttp.ClientSession() as http:
            kept = WidgetClient(bot_hub.base_url, http)
            await kept.connect()
            await kept.say(SURE)
            answer = await kept.next("message", timeout=15)
            assert answer["message"]["author"] == "bot" and answer["message"]["text"]

            widget = WidgetClient(bot_hub.base_url, http)
            await widget.connect()
            sent = await widget.say(UNSURE)
            cid = sent["conversation_id"]
            offer = await agent.next("offer", timeout=15)
        assert offer["conversation"]["id"] == cid
        handover = offer["conversation"]["handover"]
        assert handover["reason"] == "out_of_scope" and handover["intent"] == unsure_intent
        assert abs(handover["confidence"] - unsure) < 0.01
        assert handover["summary"].startswith("The question is outside what the bot was taught")
        events = await bot_hub.context.conversations.events_of(cid)
        handed = next(e for e in events if e["type"] == "handed_over")
        assert handed["detail"]["reason"] == "out_of_scope"
        assert (await bot_hub.context.conversations.get(kept_id := answer["message"]["conversation_id"])
                ).state.value == "bot", kept_id

        # The trainers' turn log says why.
        async def logged() -> dict | None:
            return await db["bot_turns"].find_one({"conversation_id": cid})

        turn = await eventually(logged, timeout=10)
        assert turn["handed_over"] is True and turn["reason"] == "out_of_scope"
        print(f"\n{UNSURE!r}: {unsure_intent} {unsure:.3f}, {SURE!r}: {sure_intent} {sure:.3f}, threshold {threshold}")
    finally:
        await agent.close()


OFF_TOPIC = "will it rain tomorrow in Paris"  # the shipped model reads it as out_of_scope (0.99)


async def test_the_shipped_models_stored_threshold_decides_while_no_model_is_active(
        bot_hub: RunningHub, db: Db) -> None:
    """No active record: the threshold stored beside the shipped model (``scripts/rasa.sh train`` ->
    ``hub bot shipped-eval``) decides (ADR 0065). An off-topic question is handed over at once as out of
    scope, where Rasa's fallback rule answered "I can only help with..." and waited for a second miss."""
    model = newest_model(ROOT / "bot" / "rasa_project")
    assert model is not None
    heldout = (ROOT / "bot" / "rasa_project" / "data" / "heldout.csv").read_text("utf-8")
    metrics = read_evaluation(model, heldout)
    assert metrics is not None, "scripts/rasa.sh train stores the shipped model's evaluation"
    assert await bot_hub.app[TRAINER].serving_threshold() == threshold_of(metrics)
    agent = await AgentClient.online(bot_hub.base_url, "alice")
    try:
        async with aiohttp.ClientSession() as http:
            widget = WidgetClient(bot_hub.base_url, http)
            await widget.connect()
            cid = (await widget.say(OFF_TOPIC))["conversation_id"]
            offer = await agent.next("offer", timeout=15)
        assert offer["conversation"]["id"] == cid
        handover = offer["conversation"]["handover"]
        assert handover["reason"] == "out_of_scope" and handover["intent"] == "out_of_scope", handover
        bot_said = await db["messages"].count_documents({"conversation_id": cid, "author": "bot"})
        assert bot_said == 0  # no "please rephrase" first
    finally:
        await agent.close()
