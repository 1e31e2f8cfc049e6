"""A real phone call followed live in the agent's console (Chromium): a real Asterisk
(tests/pbx_rig.py), sipp as the caller and as the agent's phone, the hub with voice on.

The caller presses "1" (billing) at the menu; our ACD offers the call to Alice, whose phone (a sipp
UAS) rings, answers after a second and, in the first test, hangs up six seconds later. What the
browser shows is asserted as it happens. The ringing offer lasts about a second, so the page keeps
its own record of what it showed (a MutationObserver noting each new text of the offer and of the
call panel, with the time): a poll from the test could fall between two looks."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect
from redis.asyncio import Redis

from hub.bootstrap import RunningHub
from hub.embedded import free_port
from hub.storage.database import Db
from tests.conftest import eventually
from tests.e2e.test_browser_flow import login
from tests.integration.test_calls import hub_on
from tests.pbx_rig import PbxRig, running_pbx, test_plan
from voice.pbx_config import AgentPhone

pytestmark = pytest.mark.e2e

LONG = 30_000  # ms: other test runs share this machine's two cores

# The ringing offer of a new caller: who calls, the menu choice, and the caller's history with us.
RINGING = r"Your phone is ringing\s*customer · Menu 1 · Billing and payments · first contact$"

# Notes every new text of the ringing offers, of the call panel's status, and of its steps, with
# Date.now(): window.__seen = {offers: [{text, at}], statuses: [...], steps: [...]}.
RECORDER = """() => {
  const seen = { offers: [], statuses: [], steps: [] };
  window.__seen = seen;
  const note = (kind, text) => {
    const list = seen[kind];
    if (!list.length || list[list.length - 1].text !== text) list.push({ text, at: Date.now() });
  };
  const shown = (el) => el && el.checkVisibility();
  const look = () => {
    for (const ring of document.querySelectorAll('[data-testid="offers"] [data-testid="offer-ringing"]')) {
      if (shown(ring)) note('offers', ring.textContent);
    }
    const panel = document.querySelector('[data-testid="call-panel"]');
    if (!shown(panel)) return;
    const status = panel.querySelector('[data-testid="call-status"]');
    if (shown(status) && status.textContent) note('statuses', status.textContent);
    const steps = [...panel.querySelectorAll('[data-testid="call-step"]')].map((s) => s.dataset.step);
    if (steps.length) note('steps', steps.join(','));
  };
  new MutationObserver(look).observe(document.body,
    { subtree: true, childList: true, characterData: true, attributes: true });
  look();
}"""

SEEN = "([kind, pattern]) => window.__seen[kind].some((s) => new RegExp(pattern).test(s.text))"


@dataclass
class LiveRig:
    pbx: PbxRig
    hub: RunningHub
    alice_port: int  # the UDP port Alice's (sipp) phone listens on


@pytest.fixture
async def rig(tmp_path: Path, db_name: str, mongo_url: str, redis_url: str, redis: Redis) -> AsyncIterator[LiveRig]:
    agi_port, alice_port = free_port(), free_port()
    agents = (AgentPhone(endpoint="agent-alice", password=None, contact=f"sip:alice@127.0.0.1:{alice_port}"),)
    async with (running_pbx(test_plan(agi_port=agi_port, agents=agents), tmp_path / "pbx") as pbx,
                hub_on(pbx, agi_port, db_name, mongo_url, redis_url, ring_timeout_s=15.0) as hub):
        yield LiveRig(pbx, hub, alice_port)


async def console(browser: Browser, rig: LiveRig, errors: list[str]) -> Page:
    """Alice logged in and available, her page noting what it shows from now on."""
    page = await login(browser, rig.hub.base_url, "alice")
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await expect(page.get_by_test_id("agent-status")).to_have_value("available")
    await page.evaluate(RECORDER)
    return page


async def seen(page: Page, kind: str) -> list[dict[str, Any]]:
    return await page.evaluate("(kind) => window.__seen[kind]", kind)  # type: ignore[no-any-return]


async def first_seen(page: Page, kind: str, pattern: str) -> float:
    """Wait until the page has shown a text of ``kind`` matching ``pattern``; when (ms since the epoch)."""
    await page.wait_for_function(SEEN, arg=[kind, pattern], timeout=LONG)
    return float(next(s["at"] for s in await seen(page, kind) if re.search(pattern, s["text"])))


async def call_of(db: Db, **query: Any) -> dict[str, Any] | None:
    return await db["calls"].find_one(query)


async def state_of(db: Db, conversation_id: str) -> str | None:
    doc = await db["conversations"].find_one({"_id": conversation_id}, {"state": 1})
    return None if doc is None else str(doc["state"])


def ms(at: datetime) -> float:
    return at.timestamp() * 1000


async def test_a_call_rings_is_answered_and_hung_up_by_the_agent_live_in_the_console(
        rig: LiveRig, browser: Browser, db: Db, artifacts: Path) -> None:
    errors: list[str] = []
    phone = await rig.pbx.phones.agent("alice-phone", rig.alice_port, answer_ms=1000, hangup_ms=6000)
    await phone.listening()
    alice = await console(browser, rig, errors)
    caller = await rig.pbx.phones.caller("caller", "customer", "100", dtmf=[(2500, "1")], hangup_ms=None)
    try:
        # Her phone rings: the offer shows who calls and what they chose at the menu.
        rang = await first_seen(alice, "offers", RINGING)
        # She answers on the phone (no Accept click): the call is hers; she opens it while it goes on.
        item = alice.get_by_test_id("assigned").get_by_test_id("conv-item")
        await expect(item).to_have_count(1, timeout=LONG)
        await item.click()
        panel = alice.get_by_test_id("call-panel")
        status = panel.get_by_test_id("call-status")
        await expect(status).to_have_text(re.compile(r"^Talking · 00:0\d$"), timeout=LONG)
        await expect(alice.get_by_test_id("composer-input")).to_be_hidden()  # a call carries no text
        await expect(panel.get_by_test_id("call-caller")).to_have_text("customer")
        await expect(panel.get_by_test_id("call-menu")).to_have_text("Menu 1 · Billing and payments")
        await expect(panel.get_by_test_id("call-agent")).to_have_text("Alice Wang")
        await expect(panel.get_by_test_id("call-hangup")).to_be_enabled()
        # The caller is on the line: resolving would end her side and survey the caller (ADR 0054).
        await expect(alice.get_by_test_id("resolve")).to_have_attribute("title", re.compile("satisfaction survey"))
        steps = panel.get_by_test_id("call-step")
        await expect(steps.last).to_have_attribute("data-step", "answered")  # the timeline, so far
        await expect(steps.last).to_contain_text("Answered (Alice Wang) · rang 00:0")
        conversation_id = await item.get_attribute("data-conversation-id")
        assert conversation_id

        # Her phone hangs up: the panel says who ended the call, and the timeline and durations follow.
        await expect(status).to_have_text(re.compile(r"^Ended by the agent at \d"), timeout=LONG)
        await expect(panel.get_by_test_id("call-hangup")).to_be_disabled()
        await expect(steps.last).to_have_attribute("data-step", "hung_up")
        await expect(steps.last).to_contain_text(re.compile(r"Hung up by the agent · talked 00:0[5-9]"))
        await expect(panel.get_by_test_id("call-durations")).to_have_text(
            re.compile(r"^waited 00:\d\d · talked 00:0[5-9]$"))
        conversation = alice.get_by_test_id("conversation")
        await expect(conversation).to_have_attribute("data-state", "wrap_up", timeout=LONG)
        await expect(alice.get_by_test_id("resolve")).to_be_enabled()
        await expect(item).to_contain_text("Wrap-up")
        assert await caller.wait(timeout=30) == 0, caller.output()

        # The panel shows the call as stored, step by step.
        call = await call_of(db, conversation_id=conversation_id)
        assert call is not None and call["ended_by"] == "agent" and call["choice"] == "1"
        stored = [s["step"] for s in call["steps"]]
        assert [s for s in stored if s in ("ringing", "answered", "hung_up")] == ["ringing", "answered", "hung_up"]
        assert await steps.evaluate_all("(els) => els.map((e) => e.dataset.step)") == stored
        ringing = steps.nth(stored.index("ringing"))
        await expect(ringing).to_contain_text("Ringing (Alice Wang)")
        # The answered call was recorded; the panel lists its legs (both sides, caller, agent).
        assert len(call["recordings"]) == 1
        await expect(panel.get_by_test_id("call-recording")).to_have_count(3, timeout=LONG)

        # Live, as it happened: the offer rang before she answered; the timer ran while she talked,
        # before the call ended; the step list grew as the call went on.
        at = {s["step"]: ms(s["at"]) for s in call["steps"]}
        statuses = await seen(alice, "statuses")
        talking = [(int(m[1]), s["at"]) for s in statuses if (m := re.fullmatch(r"Talking · 00:0(\d)", s["text"]))]
        assert len(talking) >= 3 and [n for n, _ in talking] == sorted(n for n, _ in talking), statuses
        assert rang < talking[0][1] < at["hung_up"] <= await first_seen(alice, "statuses", "^Ended by the agent")
        step_lists = [s["text"] for s in await seen(alice, "steps")]
        assert any(t.endswith(",answered") for t in step_lists) and step_lists[-1].endswith(",hung_up"), step_lists

        # Wrap-up, then she resolves the call in the browser.
        await alice.get_by_test_id("resolve").click()
        await expect(item).to_have_count(0, timeout=LONG)
        await eventually(lambda: _is(db, conversation_id, "resolved"), timeout=20)
        assert await phone.wait(timeout=30) == 0, phone.output()
        assert errors == []
        await alice.screenshot(path=str(artifacts / "call-live.png"))
    finally:
        await phone.kill()
        await caller.kill()


async def test_hold_and_resume_clicked_in_the_console_hold_the_real_call(
        rig: LiveRig, browser: Browser, db: Db, artifacts: Path) -> None:
    errors: list[str] = []
    phone = await rig.pbx.phones.agent("alice-phone", rig.alice_port, answer_ms=1000)  # talks until BYE
    await phone.listening()
    alice = await console(browser, rig, errors)
    caller = await rig.pbx.phones.caller("caller", "customer", "100", dtmf=[(2500, "1")], hangup_ms=None)
    try:
        await first_seen(alice, "offers", RINGING)
        item = alice.get_by_test_id("assigned").get_by_test_id("conv-item")
        await expect(item).to_have_count(1, timeout=LONG)
        await item.click()
        panel = alice.get_by_test_id("call-panel")
        status = panel.get_by_test_id("call-status")
        hold = panel.get_by_test_id("call-hold")
        await expect(status).to_contain_text("Talking · 00:0", timeout=LONG)
        conversation_id = await item.get_attribute("data-conversation-id")
        assert conversation_id

        await expect(hold).to_have_accessible_name("Put the caller on hold")
        await hold.click()
        await expect(status).to_contain_text("On hold", timeout=LONG)
        await expect(hold).to_have_text("Resume")
        await expect(hold).to_have_accessible_name("Take the caller off hold")
        held = await eventually(lambda: call_of(db, conversation_id=conversation_id, held_since={"$ne": None}),
                                timeout=20)
        assert held["steps"][-1]["step"] == "held"
        await expect(panel.get_by_test_id("call-step").last).to_contain_text("On hold")
        # The hold's own clock runs in the status while the caller hears the music.
        await expect(status).to_have_text(re.compile(r"^On hold · talking 00:\d\d · held 00:0[1-9] in all$"),
                                          timeout=LONG)
        await expect(panel.get_by_test_id("call-durations")).to_contain_text("on hold 00:0")

        await hold.click()  # Resume
        await expect(status).to_have_text(re.compile(r"^Talking · 00:\d\d$"), timeout=LONG)
        await expect(hold).to_have_text("Hold")
        resumed = await eventually(lambda: call_of(db, conversation_id=conversation_id, hold_s={"$gt": 0}),
                                   timeout=20)
        assert resumed["held_since"] is None and resumed["hold_s"] >= 1.0, resumed
        steps = [s["step"] for s in resumed["steps"]]
        assert [s for s in steps if s in ("answered", "held", "resumed")] == ["answered", "held", "resumed"]
        await expect(panel.get_by_test_id("call-step").last).to_contain_text(
            re.compile(r"Taken off hold · held 00:0[1-9]"))

        # She hangs up from the console: the caller's line is cleared, the call ended by the agent.
        await panel.get_by_test_id("call-hangup").click()
        await expect(status).to_contain_text("Ended by the agent", timeout=LONG)
        await expect(panel.get_by_test_id("call-durations")).to_have_text(
            re.compile(r"^waited 00:\d\d · talked 00:\d\d · on hold 00:0[1-9]$"))
        assert await caller.wait(timeout=30) == 0, caller.output()
        assert await phone.wait(timeout=30) == 0, phone.output()
        await expect(alice.get_by_test_id("conversation")).to_have_attribute("data-state", "wrap_up", timeout=LONG)
        shown = await panel.get_by_test_id("call-step").evaluate_all("(els) => els.map((e) => e.dataset.step)")
        call = await call_of(db, conversation_id=conversation_id)
        assert call is not None and call["ended_by"] == "agent"
        assert shown == [s["step"] for s in call["steps"]] and shown[-1] == "hung_up"
        statuses = [s["text"] for s in await seen(alice, "statuses")]
        on_hold = [i for i, t in enumerate(statuses) if t.startswith("On hold")]
        assert on_hold and statuses[on_hold[-1] + 1].startswith("Talking"), statuses  # held, then resumed

        await alice.get_by_test_id("resolve").click()
        await expect(item).to_have_count(0, timeout=LONG)
        await eventually(lambda: _is(db, conversation_id, "resolved"), timeout=20)
        assert errors == []
        await alice.screenshot(path=str(artifacts / "call-live-hold.png"))
    finally:
        await phone.kill()
        await caller.kill()


async def _is(db: Db, conversation_id: str, state: str) -> bool:
    return await state_of(db, conversation_id) == state
