"""The bot trainer in a real browser: a handed-over turn, with the agent's wrap-up code, is relabelled
and becomes a curated example; a model's evaluation shows its figures per label."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
import pytest
from playwright.async_api import Browser, expect

from console.trainer_api import TRAINER
from hub.bootstrap import RunningHub
from hub.storage.database import Db
from tests.clients import AgentClient, WidgetClient
from tests.e2e.test_browser_flow import login

CUSTOMER = "nobody answers my letters about the wrong bill, put me through to a person"


@pytest.fixture
def hub(bot_hub: RunningHub) -> RunningHub:
    return bot_hub


async def test_trainer_relabels_a_handed_over_turn(hub: RunningHub, browser: Browser) -> None:
    alice = await AgentClient.online(hub.base_url, "chen")  # general, billing, complaints: any queue
    try:
        async with aiohttp.ClientSession() as http:
            widget = WidgetClient(hub.base_url, http)
            await widget.connect()
            await widget.say(CUSTOMER)
            conversation_id = await alice.take_offer(timeout=20)
            await alice.call("POST", f"/api/conversations/{conversation_id}/wrap_up", {"code": "complaint_escalated"})
    finally:
        await alice.close()

    tom = await login(browser, hub.base_url, "tom")
    await expect(tom).to_have_url(f"{hub.base_url}/console/trainer")
    row = tom.get_by_test_id("turn-row").filter(has_text=CUSTOMER)
    await expect(row).to_have_count(1)
    await expect(row.get_by_test_id("turn-outcome")).to_contain_text("handed over")
    await expect(row.get_by_test_id("turn-wrap-up")).to_have_text("complaint_escalated")
    bot_read = await row.get_by_test_id("turn-intent").text_content()
    target = "complaint" if not (bot_read or "").startswith("complaint") else "talk_to_human"

    await row.get_by_test_id("turn-select").select_option(target)
    await expect(row.get_by_test_id("turn-save")).to_have_text("Relabel")
    await row.get_by_test_id("turn-save").click()
    # Reviewed turns leave the list; with "show reviewed" it is there, labelled.
    await expect(tom.get_by_test_id("turn-row").filter(has_text=CUSTOMER)).to_have_count(0)
    await tom.get_by_test_id("turns-all").check()
    await expect(row.get_by_test_id("turn-status")).to_have_text(f"labelled {target} by tom")

    examples = await hub.app[TRAINER].examples(target, limit=2000)
    assert any(e.text == CUSTOMER and e.source.value == "turn" and e.by == "tom" for e in examples)


async def test_trainer_reads_a_models_figures_per_label(hub: RunningHub, browser: Browser, db: Db) -> None:
    """The evaluation shows the model's own reading per label as the trainer wrote it (``intent_per_intent``,
    weakest first) and its macro-F1, beside the handover policy's figures."""
    metrics = {
        "turns": 7, "accuracy": 0.5, "macro_f1": 0.4, "intent_accuracy": 0.8, "intent_macro_f1": 0.75,
        "handover_rate": 1.0, "kept_accuracy": None, "confusions": [],
        "per_intent": {"(handover)": {"support": 7.0, "precision": 1.0, "recall": 1.0, "f1": 1.0}},
        "intent_per_intent": {
            "电费账单": {"support": 2.0, "precision": 1.0, "recall": 1.0, "f1": 1.0},
            "solar feed-in?": {"support": 4.0, "precision": 1.0, "recall": 0.5, "f1": 2 / 3},
        },
        "out_of_scope": {"threshold": 0.3, "out_of_scope_recall": 1.0},
    }
    now = datetime.now(UTC)
    await db["bot_models"].insert_one({
        "_id": "m-figures", "status": "ready", "progress": 1.0, "phase": "evaluated", "created_at": now,
        "by": "tom", "path": "/nonexistent/m-figures.tar.gz", "examples": 12, "intents": 2, "metrics": metrics,
        "threshold": 0.3})
    tom = await login(browser, hub.base_url, "tom")
    await tom.get_by_test_id("model-row").filter(has_text="m-figures").get_by_test_id("model-evaluate").click()
    rows = tom.get_by_test_id("intent-per-intent-row")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0)).to_contain_text("solar feed-in?")
    await expect(rows.nth(0)).to_contain_text("66.7%")
    await expect(rows.nth(1)).to_contain_text("电费账单")
    compare = tom.get_by_test_id("compare-table")
    await expect(compare.locator("tr").filter(has_text="Intent macro-F1")).to_contain_text("75.0%")
    await expect(compare.locator("tr").filter(has_text="Out-of-scope")).to_contain_text("100.0%")
