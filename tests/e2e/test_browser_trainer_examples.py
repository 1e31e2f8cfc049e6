"""The bot trainer's examples (Chromium, no Rasa needed): an intent's example count opens its curated
examples, and a wrong one is removed from what the next training uses."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from console.trainer_api import TRAINER
from hub.bootstrap import RunningHub
from tests.e2e.test_browser_flow import login

RIGHT = "can I send a photo of my meter instead"
WRONG = "my bill is too high"


async def test_a_trainer_opens_an_intents_examples_and_removes_a_wrong_one(hub: RunningHub, browser: Browser) -> None:
    tom = await login(browser, hub.base_url, "tom")
    await expect(tom).to_have_url(f"{hub.base_url}/console/trainer")
    await tom.get_by_test_id("intent-name").fill("meter_photo")
    await tom.get_by_test_id("intent-form").get_by_role("button").click()
    for text in (RIGHT, WRONG):
        await tom.get_by_test_id("example-intent").select_option("meter_photo")
        await tom.get_by_test_id("example-text").fill(text)
        await tom.get_by_test_id("example-form").get_by_role("button").click()
        await expect(tom.get_by_test_id("example-text")).to_have_value("")
    row = tom.get_by_test_id("intent-row").filter(has_text="meter_photo")
    await expect(row.get_by_test_id("intent-examples")).to_have_text("2")

    await row.get_by_test_id("intent-examples-open").click()
    panel = tom.get_by_test_id("examples-panel")
    await expect(panel.get_by_test_id("examples-title")).to_have_text("2 examples of meter_photo")
    items = panel.get_by_test_id("example-item")
    await expect(items).to_have_count(2)
    await items.filter(has_text=WRONG).get_by_test_id("example-remove").click()
    await expect(items).to_have_count(1)
    await expect(items).to_contain_text(RIGHT)
    await expect(panel.get_by_test_id("examples-title")).to_have_text("1 example of meter_photo")
    await expect(row.get_by_test_id("intent-examples")).to_have_text("1")
    kept = await hub.app[TRAINER].examples("meter_photo")
    assert [e.text for e in kept] == [RIGHT]


async def test_a_trainer_imports_a_csv_and_reads_what_was_skipped(hub: RunningHub, browser: Browser) -> None:
    tom = await login(browser, hub.base_url, "tom")
    await expect(tom).to_have_url(f"{hub.base_url}/console/trainer")
    csv = "text,intent\nthe meter display is blank,meter_blank\nmy meter screen is dark,meter_blank\n,meter_blank\n"
    await tom.get_by_test_id("import-file").set_input_files(
        files=[{"name": "examples.csv", "mimeType": "text/csv", "buffer": csv.encode()}])
    await tom.get_by_test_id("import-form").get_by_role("button", name="Import", exact=True).click()
    await expect(tom.get_by_test_id("import-status")).to_contain_text("line 4")  # refused, the bad row named
    await expect(tom.get_by_test_id("intent-row").filter(has_text="meter_blank")).to_have_count(0)
    await tom.get_by_test_id("import-file").set_input_files(
        files=[{"name": "examples.csv", "mimeType": "text/csv", "buffer": csv.encode()}])
    await tom.get_by_test_id("import-skip-bad").check()
    await tom.get_by_test_id("import-form").get_by_role("button", name="Import", exact=True).click()
    await expect(tom.get_by_test_id("import-status")).to_contain_text("2 examples written of 3 rows (1 skipped).")
    row = tom.get_by_test_id("intent-row").filter(has_text="meter_blank")
    await expect(row.get_by_test_id("intent-examples")).to_have_text("2")
