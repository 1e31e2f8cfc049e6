"""The wallboard in Chromium: a waiting web-chat customer appears live, is counted answered once an
agent accepts, the charts draw, the page fits a 1920x1080 wall screen, and agents are kept out.

The general queue's service level here is answered within 5 s (80 %); the customer waits longer, so
the wall shows the wait over the threshold and the service level under target, both in red."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Locator, Page, ViewportSize, expect

from hub.bootstrap import RunningHub
from hub.config import KpiSettings, ServiceLevelGoal, Settings

WALL: ViewportSize = {"width": 1920, "height": 1080}
SECRET_TEXT = "Nobody is answering, my meter 4471?"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    goals = {"general": ServiceLevelGoal(seconds=5, target=0.8)}
    return settings.model_copy(update={"kpi": KpiSettings(queue_service_levels=goals)})


async def login(browser: Browser, base_url: str, username: str, *, available: bool = False) -> Page:
    page = await (await browser.new_context(viewport=WALL)).new_page()
    await page.goto(f"{base_url}/console/login")
    await page.get_by_test_id("login-username").fill(username)
    await page.get_by_test_id("login-password").fill("northgrid-demo")
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("agent-name")).not_to_be_empty()
    if available:
        await page.get_by_test_id("agent-status").select_option("available")
    return page


async def painted_pixels(page: Page, testid: str) -> int:
    """Pixels of the chart's canvas that are not transparent (Chart.js drew axes, bars, legend)."""
    count: int = await page.evaluate("""(testid) => {
        const canvas = document.querySelector(`[data-testid="${testid}"]`);
        if (!canvas || !canvas.width || !canvas.height) return 0;
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let n = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) n += 1;
        return n;
    }""", testid)
    return count


def chip(row: Locator, state: str) -> Locator:
    return row.get_by_test_id("agents").get_by_test_id(f"agents-{state}")


async def test_agents_are_kept_out(hub: RunningHub, browser: Browser) -> None:
    anonymous = await (await browser.new_context()).new_page()
    await anonymous.goto(f"{hub.base_url}/console/wallboard")
    await expect(anonymous).to_have_url(f"{hub.base_url}/console/login")
    alice = await login(browser, hub.base_url, "alice")
    answer = await alice.goto(f"{hub.base_url}/console/wallboard")
    assert answer is not None and answer.status == 403
    assert "supervisors, team leaders and admins" in await answer.text()
    assert (await alice.request.get(f"{hub.base_url}/api/kpi/today")).status == 403


async def test_wallboard_follows_a_customer_live(hub: RunningHub, browser: Browser, artifacts: Path) -> None:
    sara = await login(browser, hub.base_url, "sara")
    problems: list[str] = []
    sara.on("pageerror", lambda exc: problems.append(str(exc)))
    sara.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    await sara.goto(f"{hub.base_url}/console/supervisor")
    await sara.get_by_test_id("nav-wallboard").click()  # linked from the supervisor page
    await expect(sara).to_have_url(f"{hub.base_url}/console/wallboard")
    general = sara.locator('[data-testid="wb-queue-row"][data-id="general"]')
    webchat = sara.locator('[data-testid="wb-channel-row"][data-id="webchat"]')
    await expect(general.get_by_test_id("waiting")).to_have_text("0")
    await expect(general.get_by_test_id("answered")).to_have_text("0")
    await expect(sara.get_by_test_id("wb-conn")).to_have_text("Live")

    customer = await (await browser.new_context()).new_page()
    await customer.goto(f"{hub.base_url}/webchat/demo")
    await customer.get_by_test_id("hubchat-launcher").click()
    await customer.get_by_test_id("hubchat-input").fill(SECRET_TEXT)
    await customer.get_by_test_id("hubchat-send").click()

    # Live, without a reload: waiting per queue, per channel and in total; the longest wait ticks.
    await expect(general.get_by_test_id("waiting")).to_have_text("1")
    await expect(webchat.get_by_test_id("waiting")).to_have_text("1")
    await expect(sara.get_by_test_id("total-waiting")).to_have_text("1")
    longest = general.get_by_test_id("longest")
    await expect(longest).not_to_have_text("00:00")
    first = await longest.text_content()
    await expect(longest).not_to_have_text(first or "")  # a second later it shows more
    await expect(webchat.get_by_test_id("longest")).not_to_have_text("00:00")
    await expect(sara.get_by_test_id("total-longest")).not_to_have_text("00:00")

    await expect(longest).to_have_class(re.compile(r"\bis-over\b"), timeout=10_000)  # past the 5 s threshold
    await expect(sara.get_by_test_id("tile-longest")).to_have_class(re.compile(r"\bis-over\b"))

    alice = await login(browser, hub.base_url, "alice", available=True)
    await alice.get_by_test_id("offers").get_by_test_id("offer-accept").click()
    await expect(alice.get_by_test_id("assigned").get_by_test_id("conv-item")).to_have_count(1)

    await expect(general.get_by_test_id("waiting")).to_have_text("0")
    await expect(general.get_by_test_id("longest")).to_have_text("00:00")
    await expect(webchat.get_by_test_id("waiting")).to_have_text("0")
    await expect(general.get_by_test_id("answered")).to_have_text("1", timeout=20_000)
    await expect(webchat.get_by_test_id("answered")).to_have_text("1")
    await expect(sara.get_by_test_id("total-answered")).to_have_text("1")
    await expect(general.get_by_test_id("abandoned")).to_have_text("0")
    await expect(general.get_by_test_id("sl")).to_have_text("0 %")  # answered, but not within 5 s
    await expect(general.get_by_test_id("sl")).to_have_attribute("data-under", "true")
    await expect(sara.get_by_test_id("tile-sl")).to_have_class(re.compile(r"\bis-under\b"))
    await expect(webchat.get_by_test_id("sl")).to_have_text("0 %")
    await expect(chip(general, "chat")).to_have_attribute("data-count", "1")  # Alice, busy on chat
    await expect(sara.get_by_test_id("total-agents-chat")).to_contain_text("1")

    # The charts are drawn, with their text alternatives.
    assert await painted_pixels(sara, "chart-intervals") > 1000
    assert await painted_pixels(sara, "chart-sl") > 1000
    await expect(sara.get_by_test_id("chart-sl-table").locator("tbody tr")).not_to_have_count(0)
    await expect(sara.locator("#chart-sl-summary")).to_have_text("Under target: General enquiries.")
    await expect(sara.get_by_test_id("chart-intervals-table").locator("tbody tr")).to_have_count(1)

    # The wall states the page gives agents, by its own module (a call needs Asterisk: test_browser_call_live).
    states = await sara.evaluate("""async () => {
        const m = await import('/console/static/wallboard_model.js');
        const agent = (status, load, online = true) => ({ status, load, online });
        return [agent('available', { voice: 1 }), agent('away', { webchat: 2 }), agent('available', {}),
                agent('paused', {}), agent('available', { voice: 1 }, false)].map(m.agentState);
    }""")
    assert states == ["call", "chat", "available", "away", "offline"]

    # One wall screen, no scrolling, and nothing about the customer on it.
    await sara.screenshot(path=str(artifacts / "wallboard.png"))
    overflow = await sara.evaluate("[document.documentElement.scrollHeight - innerHeight,"
                                   " document.documentElement.scrollWidth - innerWidth]")
    assert overflow[0] <= 0 and overflow[1] <= 0, overflow
    text = await sara.locator("body").inner_text()
    assert "4471" not in text and "Nobody" not in text
    await sara.emulate_media(color_scheme="dark")  # the charts follow the scheme too
    await expect(sara.get_by_test_id("chart-sl")).to_be_visible()
    assert await painted_pixels(sara, "chart-sl") > 1000
    await sara.screenshot(path=str(artifacts / "wallboard-dark.png"))
    assert problems == []
