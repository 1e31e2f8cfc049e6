"""The bot trainer in a real browser: a handed-over turn, with the agent's wrap-up code, is relabelled
and becomes a curated example."""

from __future__ import annotations

import aiohttp
import pytest
from playwright.async_api import Browser, expect

from console.trainer_api import TRAINER
from hub.bootstrap import RunningHub
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
