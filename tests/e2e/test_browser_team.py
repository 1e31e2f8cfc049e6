"""A team leader's supervisor page in Chromium: her team only, states with reasons, time in state ticking."""

from __future__ import annotations

import re

from playwright.async_api import Browser, Page, expect

from hub.bootstrap import RunningHub
from tests.e2e.conftest import sign_in


async def login(browser: Browser, base_url: str, username: str) -> Page:
    return await sign_in(await (await browser.new_context()).new_page(), base_url, username)


async def test_a_team_leader_sees_only_her_team_with_their_pauses_live(hub: RunningHub, browser: Browser) -> None:
    ids = {a.username: a.id for a in await hub.context.directory.agents()}
    errors: list[str] = []
    lena = await login(browser, hub.base_url, "lena")
    lena.on("pageerror", lambda exc: errors.append(str(exc)))
    await lena.goto(f"{hub.base_url}/console/supervisor")
    await expect(lena.get_by_test_id("board-team")).to_have_text("Team: Team North")
    rows = lena.get_by_test_id("agent-row")
    await expect(rows).to_have_count(2)
    assert {await rows.nth(i).get_attribute("data-agent-id") for i in range(2)} == {ids["alice"], ids["bob"]}
    await expect(lena.locator(f'[data-testid="agent-row"][data-agent-id="{ids["chen"]}"]')).to_have_count(0)

    # Alice pauses for lunch from her own status picker: Lena's page shows it, the time ticking.
    alice = await login(browser, hub.base_url, "alice")
    alice.on("pageerror", lambda exc: errors.append(str(exc)))
    picker = alice.get_by_test_id("agent-status")
    await expect(picker.locator('option[value="paused:lunch"]')).to_have_count(1)
    await picker.select_option("paused:lunch")
    await expect(picker).to_have_value("paused:lunch")
    await expect(alice.get_by_test_id("status-since")).to_have_text(re.compile(r"^00:0\d$"))
    row = lena.locator(f'[data-testid="agent-row"][data-agent-id="{ids["alice"]}"]')
    await expect(row.get_by_test_id("status")).to_have_text("Paused · Lunch")
    in_state = row.get_by_test_id("in-state")
    await expect(in_state).to_have_text(re.compile(r"^00:\d\d$"))
    shown = await in_state.text_content()
    await expect(in_state).not_to_have_text(shown or "", timeout=10_000)  # it ticks

    # A productive pause reads the same way; back to available ends it.
    await picker.select_option("paused:training")
    await expect(row.get_by_test_id("status")).to_have_text("Paused · Training")
    await picker.select_option("available")
    await expect(row.get_by_test_id("status")).to_have_text("Available")
    assert errors == []
