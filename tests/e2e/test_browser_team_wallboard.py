"""A team leader's wallboard in Chromium: her team's name, her members only in the agents' table
and their work only in the figures; a supervisor's board shows everyone. Today's conversations are
written into the real event table (as tests/integration/test_kpi_history.py does) with the demo's
agent ids: Alice (Team North) answers a chat and resolves it, Chen (no team) answers another."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from playwright.async_api import Browser, Page, expect

from hub.bootstrap import RunningHub
from hub.kpi_figures import local_midnight
from hub.storage.database import Db
from tests.conftest import eventually
from tests.e2e.conftest import sign_in
from tests.integration.test_kpi_history import Script, projected, write

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def login(browser: Browser, base_url: str, username: str) -> Page:
    page = await (await browser.new_context(viewport={"width": 1920, "height": 1080})).new_page()
    return await sign_in(page, base_url, username)


def chat(cid: str, agent: str, start: object) -> Script:
    return Script(cid, "webchat", "Customer", start).step("created", "new", 0) \
        .step("queued", "queued", 0, queue="general").step("offered", "offered", 2, agent=agent) \
        .step("assigned", "assigned", 4).step("resolved", "resolved", 64)


async def test_a_team_leaders_wallboard_shows_her_team_only(hub: RunningHub, db: Db, browser: Browser) -> None:
    ids = {a.username: a.id for a in await hub.context.directory.agents()}
    now = hub.context.clock.now()
    start = max(now - timedelta(minutes=3), local_midnight(now.astimezone(SHANGHAI).date(), SHANGHAI))
    await write(db, [chat("TW1", ids["alice"], start), chat("TW2", ids["chen"], start + timedelta(seconds=1))])
    await eventually(lambda: projected(db), timeout=30)

    errors: list[str] = []
    lena = await login(browser, hub.base_url, "lena")
    lena.on("pageerror", lambda exc: errors.append(str(exc)))
    await lena.goto(f"{hub.base_url}/console/wallboard")
    await expect(lena.get_by_test_id("wb-scope")).to_have_text(" · Team North")
    rows = lena.get_by_test_id("wb-agent-row")
    await expect(rows).to_have_count(2)
    assert {await rows.nth(i).get_attribute("data-id") for i in range(2)} == {ids["alice"], ids["bob"]}
    alice = lena.locator(f'[data-testid="wb-agent-row"][data-id="{ids["alice"]}"]')
    await expect(alice.get_by_test_id("handled")).to_have_text("1", timeout=20_000)
    await expect(alice.get_by_test_id("aht")).to_have_text("01:00")
    await expect(lena.get_by_test_id("total-answered")).to_have_text("1")  # Alice's, not Chen's
    await expect(lena.get_by_test_id("total-agents")).to_contain_text("2")  # offline: her two members
    assert "Chen" not in await lena.locator("body").inner_text()

    sara = await login(browser, hub.base_url, "sara")
    await sara.goto(f"{hub.base_url}/console/wallboard")
    chen = sara.locator(f'[data-testid="wb-agent-row"][data-id="{ids["chen"]}"]')
    await expect(chen.get_by_test_id("handled")).to_have_text("1", timeout=20_000)
    await expect(sara.get_by_test_id("total-answered")).to_have_text("2")
    await expect(sara.get_by_test_id("wb-scope")).to_have_text("")
    assert errors == []
