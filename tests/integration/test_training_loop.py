"""The trainer's loop against the real Rasa server: review a turn, add an intent, train, evaluate, activate.

The suite's one training run (``HUB_TRAINING__EPOCHS`` kept low so it takes about a minute here).
Activation swaps the model of the session's Rasa server, so the test puts the shipped model back.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.training.labels import intent_name
from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.config import BotSettings, TrainingSettings
from tests.clients import AgentClient, WidgetClient
from tests.conftest import eventually, make_settings

ROOT = Path(__file__).resolve().parents[2]
EPOCHS = 20
SOLAR = ["do you buy back solar power", "solar panel export payments", "feed-in tariff for rooftop solar",
         "can I sell power from my solar panels", "what do you pay for electricity my solar panels export",
         "I want to sign up for solar export payments", "光伏发电可以卖给你们吗", "屋顶光伏上网电价是多少"]
CUSTOMER = "how much will you pay me for the power my roof panels send to the grid"
LABEL = "solar feed-in?"  # a trainer's label with a space and punctuation: the model knows it by a safe name
SOLAR_INTENT = intent_name(LABEL)
# `hub bot evaluate` rows: the trainer's labels as written, shipped intents, and out-of-scope questions
# (a label the model does not know, and the explicit label).
EVALUATION = [
    *((text, LABEL) for text in ("will you buy the electricity from my solar roof", "solar export tariff please",
                                 "payments for power my panels export", "我的光伏电能卖给电网吗")),
    *((text, "check_bill") for text in ("how much is my bill", "why is my bill so high this month",
                                        "what do I owe you")),
    *((text, "report_outage") for text in ("my power is out", "no electricity in my street", "停电了")),
    *((text, "greet") for text in ("hello", "good morning")),
    *((text, "weather") for text in ("will it rain tomorrow", "who won the football match last night",
                                     "recommend a good pizza place", "what is the capital of France",
                                     "how tall is mount everest", "sing me a song")),
    *((text, "Out of scope") for text in ("can you book me a flight to Rome", "what is your favourite colour",
                                          "tell me a joke about cats")),
]


@pytest.fixture
async def hub(mongo_url: str, redis_url: str, redis: Redis, db_name: str, rasa_url: str,
              tmp_path: Path) -> AsyncIterator[RunningHub]:
    training = TrainingSettings(epochs=EPOCHS, models_dir=tmp_path / "models", work_dir=tmp_path / "work",
                                review_below=1.0)  # every turn the bot read is listed for review
    settings = make_settings(db_name).model_copy(update={
        "bot": BotSettings(rasa_url=rasa_url, timeout_s=10.0), "training": training})
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as running:
        await load_demo(running.context.directory)
        yield running


def model_rasa_would_start(active_link: Path) -> Path:
    """What ``scripts/rasa.sh start`` would load with this activated-model link."""
    done = subprocess.run([str(ROOT / "scripts" / "rasa.sh"), "model"], capture_output=True, text=True, check=True,
                          env={**os.environ, "RASA_ACTIVE_MODEL": str(active_link)}, timeout=60)
    return Path(done.stdout.strip())


@pytest.fixture
async def shipped_model_restored(rasa_url: str) -> AsyncIterator[None]:
    yield
    shipped = str(await asyncio.to_thread(model_rasa_would_start, Path("/nonexistent")))
    async with aiohttp.ClientSession() as http, http.put(f"{rasa_url}/model", json={"model_file": shipped},
                                                          timeout=aiohttp.ClientTimeout(total=300)) as response:
        assert response.status == 204


def evaluate_cli(rasa_url: str, tmp_path: Path) -> dict[str, Any]:
    """``hub bot evaluate --json`` of the EVALUATION rows against the serving Rasa (no database needed)."""
    data = tmp_path / "evaluate.csv"
    with data.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([("text", "intent"), *EVALUATION])
    env = {**os.environ, "HUB_BOT__RASA_URL": rasa_url}
    done = subprocess.run([sys.executable, "-m", "hub", "bot", "evaluate", "--json", str(data)], env=env,
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


async def parse(rasa_url: str, text: str) -> tuple[str, float]:
    async with aiohttp.ClientSession() as http, http.post(f"{rasa_url}/model/parse", json={"text": text}) as response:
        intent = (await response.json())["intent"]
    return intent["name"], intent["confidence"]


async def best_reading(rasa_url: str, text: str) -> tuple[str, float]:
    """The best real intent of the server's ranking (before Rasa's nlu_fallback) and its confidence."""
    async with aiohttp.ClientSession() as http, http.post(f"{rasa_url}/model/parse", json={"text": text}) as response:
        ranking = (await response.json())["intent_ranking"]
    best = next(r for r in ranking if r["name"] != "nlu_fallback")
    return best["name"], float(best["confidence"])


async def test_review_train_evaluate_activate(hub: RunningHub, rasa_url: str, tmp_path: Path,
                                              shipped_model_restored: None) -> None:
    # A customer asks something the shipped bot has no intent for: the turn is recorded.
    async with aiohttp.ClientSession() as http:
        widget = WidgetClient(hub.base_url, http)
        await widget.connect()
        await widget.say(CUSTOMER)
        await widget.next("message", timeout=15)

    alice = await AgentClient(hub.base_url).login("alice")
    tom = await AgentClient(hub.base_url).login("tom")
    try:
        await alice.call("GET", "/api/trainer/turns", expect=403)
        await alice.call("POST", "/api/trainer/train", expect=403)
        turns = (await tom.call("GET", "/api/trainer/turns"))["turns"]
        turn = next(t for t in turns if t["text"] == CUSTOMER)
        assert turn["intent"] and turn["intent"] != SOLAR_INTENT

        # The trainer adds the intent and examples and relabels the turn.
        await tom.call("POST", "/api/trainer/intents", {"name": LABEL})
        for text in SOLAR:
            await tom.call("POST", "/api/trainer/examples", {"text": text, "intent": LABEL})
        labelled = await tom.call("POST", f"/api/trainer/turns/{turn['id']}/label", {"intent": LABEL})
        assert labelled["example"]["source"] == "turn"
        assert all(t["id"] != turn["id"] for t in (await tom.call("GET", "/api/trainer/turns"))["turns"])
        intents = {i["name"]: i for i in (await tom.call("GET", "/api/trainer/intents"))["intents"]}
        assert intents[SOLAR_INTENT]["examples"] == len(SOLAR) + 1 and not intents[SOLAR_INTENT]["has_response"]
        assert intents[SOLAR_INTENT]["label"] == LABEL

        # Train: one at a time, with progress.
        model = (await tom.call("POST", "/api/trainer/train", expect=202))["model"]
        assert model["status"] == "training"
        await tom.call("POST", "/api/trainer/train", expect=409)
        seen: list[float] = []

        async def trained() -> dict | None:
            current = (await tom.call("GET", f"/api/trainer/models/{model['id']}"))["model"]
            seen.append(current["progress"])
            assert current["status"] != "failed", current["error"]
            return current if current["status"] == "ready" and current["phase"] == "evaluated" else None

        done = await eventually(trained, timeout=600, interval=1.0)
        assert any(0 < p < 1 for p in seen) and seen == sorted(seen)
        assert done["handover_intents"] == [SOLAR_INTENT] and done["duration_s"] > 0
        metrics = done["metrics"]
        assert metrics["turns"] == 210 and metrics["accuracy"] > 0.5 and metrics["macro_f1"] > 0.4
        assert {"per_intent", "confusions", "handover_rate", "kept_accuracy"} <= set(metrics)
        # The out-of-scope threshold was chosen on the held-out set's validation split and kept with the model.
        held_out = metrics["out_of_scope"]
        assert held_out["threshold_source"] == "validation split" and held_out["out_of_scope_rows"] > 0
        assert done["threshold"] == held_out["threshold"]
        print(f"\ntraining ({EPOCHS} epochs) took {done['duration_s']} s; held-out accuracy "
              f"{metrics['accuracy']:.3f}, macro-F1 {metrics['macro_f1']:.3f}")

        # Evaluate next to the model serving now (the shipped one).
        evaluation = await tom.call("POST", f"/api/trainer/models/{model['id']}/evaluate")
        assert evaluation["serving"]["model"].startswith("northgrid-")
        assert evaluation["serving"]["accuracy"] > 0.7
        print(f"shipped model: accuracy {evaluation['serving']['accuracy']:.3f}")

        # Nothing changes until someone activates it.
        assert (await parse(rasa_url, CUSTOMER))[0] != SOLAR_INTENT
        active = (await tom.call("POST", f"/api/trainer/models/{model['id']}/activate"))["model"]
        assert active["status"] == "active"
        assert (await parse(rasa_url, CUSTOMER))[0] == SOLAR_INTENT
        assert (await parse(rasa_url, SOLAR[0]))[0] == SOLAR_INTENT

        # `hub bot evaluate --json` against the serving model: the trainer's labels as written, and an
        # out-of-scope recall apart from the policy's handovers (the new intent has no response).
        result = await asyncio.to_thread(evaluate_cli, rasa_url, tmp_path)
        oos = result["out_of_scope"]
        print(f"evaluate: out of scope {json.dumps({k: v for k, v in oos.items() if k != 'curve'})}")
        assert result["labels"] == {SOLAR_INTENT: LABEL, intent_name("Out of scope"): "Out of scope"}
        assert LABEL in result["per_intent"]
        assert oos["threshold_source"] == "validation split" and len(oos["curve"]) == 20
        assert oos["out_of_scope_rows"] > 0 and oos["out_of_scope_recall"] is not None
        assert oos["in_scope_accuracy"] > 0.5 and oos["handed_over_for_other_reasons"] > 0

        # The activated model survives a Rasa restart: scripts/rasa.sh start loads the active link.
        started_with = await asyncio.to_thread(model_rasa_would_start, tmp_path / "models" / "active.tar.gz")
        assert started_with.name == f"curated-{model['id']}.tar.gz"

        # The new intent has no answer: the bot hands such conversations to a human by policy, when
        # the model's own threshold (recorded at training) keeps the turn; under it, as out of scope.
        # An out-of-scope question is decided by that threshold too, not by Rasa's fallback.
        for text in (SOLAR[3], "can you book me a flight to Rome"):
            intent, confidence = await best_reading(rasa_url, text)
            kept = confidence >= done["threshold"] and intent != "out_of_scope"
            async with aiohttp.ClientSession() as http:
                widget = WidgetClient(hub.base_url, http)
                await widget.connect()
                sent = await widget.say(text)
                if kept and intent != SOLAR_INTENT:  # read as an intent the bot answers: it does
                    assert (await widget.next("message", timeout=15))["message"]["author"] == "bot"
                    continue

                async def handed_over(cid: str = sent["conversation_id"]) -> dict | None:
                    doc = await hub.context.conversations.get_doc(cid)
                    return doc if doc["state"] == "queued" else None

                doc = await eventually(handed_over, timeout=15)
            print(f"{text!r}: {intent} {confidence:.3f} at threshold {done['threshold']}: {doc['handover']['reason']}")
            assert doc["handover"]["reason"] == ("policy" if kept else "out_of_scope")
            assert doc["handover"]["intent"] == intent
            if text == SOLAR[3]:
                assert intent == SOLAR_INTENT
    finally:
        await alice.close()
        await tom.close()
