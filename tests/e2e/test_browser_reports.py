"""The reports page in Chromium (/console/reports): the scripted day of tests/integration/test_kpi_history.py
(its figures worked out by hand there) shown as a table by day and by agent with names, the
service level under target marked, a count opened into the conversations behind it, the CSV link
following the query, no serious accessibility violation, and agents kept out."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Browser, Locator, Page, expect

from hub.bootstrap import RunningHub
from hub.storage.database import Db
from tests.conftest import eventually
from tests.e2e.axe import blocking, new_page
from tests.e2e.conftest import sign_in
from tests.e2e.test_browser_wallboard import painted_pixels
from tests.integration.test_kpi_history import Script, projected, the_day, the_repeats, write


async def with_real_agents(hub: RunningHub, scripts: list[Script]) -> list[Script]:
    """The script's agents are the demo's alice and bob, by their ids (the page shows their names)."""
    ids = {}
    for username in ("alice", "bob"):
        agent = await hub.context.directory.agent_by_username(username)
        assert agent is not None
        ids[username] = agent.id
    for script in scripts:
        for event in script.events:
            event["agent_id"] = ids.get(event["agent_id"], event["agent_id"])
            if "agent_id" in event["detail"]:
                event["detail"]["agent_id"] = ids[event["detail"]["agent_id"]]
        script.agent = ids.get(script.agent or "", script.agent)
    return scripts


def cell(page: Page, period: str, figure: str, key: str = "") -> Locator:
    row = page.locator(f'[data-testid="rep-row"][data-period="{period}"][data-key="{key}"]')
    return row.locator(f'td[data-figure="{figure}"]')


async def test_a_supervisor_reads_the_day_by_agent_and_opens_a_count(hub: RunningHub, browser: Browser,
                                                                      db: Db, artifacts: Path) -> None:
    await write(db, await with_real_agents(hub, the_day() + the_repeats()))
    await eventually(lambda: projected(db), timeout=20)
    sara = await sign_in(await new_page(browser), hub.base_url, "sara")
    errors: list[str] = []
    sara.on("pageerror", lambda exc: errors.append(str(exc)))
    await sara.goto(f"{hub.base_url}/console/reports?from=2026-03-10&to=2026-03-11&by=day&group=none")
    await expect(sara.get_by_test_id("rep-row")).to_have_count(2)
    day = "2026-03-10"
    # The day's figures as worked out by hand (DAY_TOTAL): 7 offered, service level 50 % (target 80 %),
    # ASA 20.5 s, AHT 320 s, first-contact resolution 1/3 (W1 came back, S1 was reopened), reopen 1/3.
    for figure, text in (("offered", "7"), ("answered", "4"), ("abandoned", "3"), ("service_level", "50%"),
                         ("asa_s", "00:20"), ("aht_s", "05:20"), ("fcr", "33.3%"), ("reopen_rate", "33.3%"),
                         ("bot_containment", "50%"), ("csat", "—")):
        await expect(cell(sara, day, figure)).to_have_text(text)
    await expect(cell(sara, day, "service_level")).to_have_class(re.compile(r"\bis-under\b"))
    await expect(cell(sara, "2026-03-11", "service_level")).not_to_have_class(re.compile(r"is-under"))
    await expect(sara.get_by_test_id("rep-note")).to_contain_text("Asia/Shanghai")
    # One row per day: the chart draws them (its sentence for screen readers says what it shows).
    await expect(sara.get_by_test_id("rep-chart-box")).to_be_visible()
    await expect(sara.get_by_test_id("rep-chart-summary")).to_have_text(
        "2 periods: 5 answered, 3 abandoned; the lowest service level 2026-03-10 50%.")
    assert await painted_pixels(sara, "rep-chart") > 1000
    await sara.screenshot(path=str(artifacts / "reports-by-day.png"), full_page=True)

    # The abandoned count opens the three conversations counted in it.
    await sara.locator(f'[data-testid="rep-row"][data-period="{day}"]').get_by_test_id("rep-drill-abandoned").click()
    drill = sara.get_by_test_id("rep-drill")
    await expect(drill.get_by_test_id("rep-drill-row")).to_have_count(3)
    await expect(drill.get_by_test_id("rep-drill-title")).to_contain_text(f"Abandoned · {day}")
    assert await drill.get_by_test_id("rep-drill-row").evaluate_all(
        "rows => rows.map((r) => r.dataset.conversation)") == ["W2", "V2", "V3"]
    await expect(drill.get_by_test_id("rep-drill-row").first).to_contain_text("Li Na")
    # W2 left at 07:01:30 in Shanghai (23:01 UTC the day before): the centre's time, as its days are.
    await expect(drill.get_by_test_id("rep-drill-row").first).to_contain_text("10 Mar 2026, 07:01")

    # Split by agent: the demo agents by name; bob's one resolution (S1) was reopened.
    await sara.get_by_test_id("rep-group").select_option("agent")
    await sara.get_by_test_id("rep-to").fill(day)
    await sara.get_by_test_id("rep-show").click()
    await expect(sara.get_by_test_id("rep-row")).to_have_count(2)
    await expect(sara.get_by_test_id("rep-drill")).to_be_hidden()
    await expect(sara.get_by_test_id("rep-chart-box")).to_be_hidden()  # split by agent: the table only
    bob = sara.get_by_test_id("rep-row").filter(has_text="Bob Li")
    await expect(bob.locator('td[data-figure="reopen_rate"]')).to_have_text("100%")
    await expect(bob.locator('td[data-figure="handled"]')).to_have_text("1")
    alice = sara.get_by_test_id("rep-row").filter(has_text="Alice Wang")
    await expect(alice.locator('td[data-figure="answered"]')).to_have_text("3")
    await alice.get_by_test_id("rep-drill-answered").click()
    await expect(sara.get_by_test_id("rep-drill").get_by_test_id("rep-drill-row")).to_have_count(3)
    await sara.screenshot(path=str(artifacts / "reports-by-agent.png"), full_page=True)
    href = await sara.get_by_test_id("rep-csv").get_attribute("href")
    assert href == "/api/kpi/history?from=2026-03-10&to=2026-03-10&by=day&group=agent&format=csv"
    assert sara.url.endswith("/console/reports?from=2026-03-10&to=2026-03-10&by=day&group=agent")
    found = await blocking(sara)
    assert found == [], "\n".join(map(str, found))
    assert errors == []


async def test_agents_are_kept_out_and_supervisors_find_the_page(hub: RunningHub, browser: Browser) -> None:
    alice = await sign_in(await new_page(browser), hub.base_url, "alice")
    answer = await alice.goto(f"{hub.base_url}/console/reports")
    assert answer is not None and answer.status == 403
    await alice.goto(f"{hub.base_url}/console/")
    await expect(alice.get_by_test_id("agent-name")).not_to_be_empty()
    await expect(alice.locator('a[href="/console/reports"]')).to_be_hidden()
    sara = await sign_in(await new_page(browser), hub.base_url, "sara")
    link = sara.locator('a[href="/console/reports"]')
    await expect(link).to_be_visible()
    await link.click()
    await expect(sara).to_have_url(re.compile(r"/console/reports\?from=\d{4}-\d\d-\d\d&to="))
    await expect(sara.get_by_test_id("rep-note")).to_contain_text("Asia/Shanghai")
