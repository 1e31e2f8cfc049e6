"""Find, take and hand on in a real browser (issue 16 items 1 and 2), one sequence on one hub:
Alice serves and resolves a web-chat customer who wrote in Chinese; she finds the resolved
conversation again by a Chinese word and reopens it; Alice and Chen race to take it by hand and
only one gets it; the winner hands it on to Bob with a note, Bob gets it with the note, and when he
declines it goes to the other agent, never straight back to the one who handed it on."""

from __future__ import annotations

import asyncio

from playwright.async_api import Browser, Page, expect

from hub.bootstrap import RunningHub
from tests.conftest import eventually
from tests.e2e.test_browser_bot import customer_says
from tests.e2e.test_browser_flow import login

NOTE = "客户很着急 <b>meter</b> 4711"


async def status(page: Page, value: str) -> None:
    await page.get_by_test_id("agent-status").select_option(value)


async def find(page: Page, query: str, view: str) -> None:
    await page.get_by_test_id("find-input").fill(query)
    await page.get_by_test_id("find-view").select_option(view)
    await page.get_by_test_id("find-submit").click()


async def test_find_reopen_race_to_take_and_hand_on_with_a_note(hub: RunningHub, browser: Browser) -> None:
    chen = await login(browser, hub.base_url, "chen")
    bob = await login(browser, hub.base_url, "bob")
    for other in (chen, bob):
        await status(other, "away")  # only Alice is routed to
    alice = await login(browser, hub.base_url, "alice")
    errors: list[str] = []
    alice.on("pageerror", lambda exc: errors.append(str(exc)))
    await customer_says(browser, hub.base_url, "这个月的电费为什么这么高")
    await alice.get_by_test_id("offers").get_by_test_id("conv-item").get_by_test_id("offer-accept").click()
    conversation = alice.get_by_test_id("conversation")
    await expect(conversation).to_have_attribute("data-state", "assigned")
    conversation_id = await conversation.get_attribute("data-conversation-id")
    assert conversation_id
    await alice.get_by_test_id("resolve").click()
    await expect(conversation).to_have_attribute("data-state", "resolved")
    await status(alice, "away")

    # Find it again by a Chinese word among the resolved, with a label, and reopen it.
    async def listed() -> bool:
        await find(alice, "电费", "resolved")
        return await alice.get_by_test_id("find-item").count() == 1

    await eventually(listed, timeout=20)  # the search consumer indexes it after the resolve
    item = alice.get_by_test_id("find-item")
    await expect(item.get_by_test_id("find-state")).to_have_text("Resolved")
    await item.get_by_test_id("find-open").click()
    await expect(conversation).to_have_attribute("data-conversation-id", conversation_id)
    await alice.get_by_test_id("label-input").fill("<img src=x onerror=alert(1)>")
    await alice.get_by_test_id("label-add").click()
    await expect(alice.locator(".toast", has_text="a label holds")).to_be_visible()
    await alice.get_by_test_id("label-input").fill("电费 投诉")
    await alice.get_by_test_id("label-add").click()
    await expect(alice.get_by_test_id("conv-labels").get_by_test_id("label-chip")).to_contain_text("电费 投诉")
    await alice.get_by_test_id("reopen").click()
    await expect(conversation).to_have_attribute("data-state", "queued")

    # Alice and Chen race to take it by hand: only one gets it.
    await find(chen, "", "queued")
    await chen.get_by_test_id("find-item").filter(has_text="电费").get_by_test_id("find-open").click()
    await expect(chen.get_by_test_id("conversation")).to_have_attribute("data-state", "queued")
    await expect(alice.get_by_test_id("pick")).to_be_visible()
    await expect(chen.get_by_test_id("pick")).to_be_visible()
    await asyncio.gather(alice.get_by_test_id("pick").click(), chen.get_by_test_id("pick").click())

    async def taken() -> dict[str, object] | None:
        doc = await hub.context.conversations.get_doc(conversation_id)
        return doc if doc["state"] == "assigned" else None

    doc = await eventually(taken)
    winner, loser = (alice, chen) if doc["agent_id"] == (await hub.context.directory.agent_by_username(
        "alice")).id else (chen, alice)  # type: ignore[union-attr]
    await expect(winner.get_by_test_id("assigned").get_by_test_id("conv-item")).to_have_count(1)
    await expect(loser.get_by_test_id("assigned").get_by_test_id("conv-item")).to_have_count(0)
    await expect(loser.locator(".toast", has_text="another agent took this conversation first")).to_be_visible()
    assigned = [e for e in await hub.context.conversations.events_of(conversation_id) if e["type"] == "assigned"]
    assert len(assigned) == 2  # Alice's accept at first, and the one pick that won

    # The winner hands it on to Bob with a note; Bob gets it with the note (as text).
    await status(bob, "available")
    bob_id = (await hub.context.directory.agent_by_username("bob")).id  # type: ignore[union-attr]
    await winner.reload()
    await expect(winner.get_by_test_id("conversation")).to_have_attribute("data-state", "assigned")
    await winner.get_by_test_id("transfer-agent").select_option(bob_id)
    await winner.get_by_test_id("transfer-note").fill(NOTE)
    await winner.get_by_test_id("transfer-agent-submit").click()
    await expect(winner.locator(".toast", has_text="Offered to your colleague")).to_be_visible()
    await expect(winner.get_by_test_id("conversation")).to_be_hidden()  # handed on: no longer hers
    await status(winner, "available")  # she has room again: still it must not come back to her
    await status(loser, "available")
    offer = bob.get_by_test_id("offers").get_by_test_id("conv-item")
    await offer.locator(".conv-name").click()  # an offer opens before it is accepted
    note = bob.locator('[data-testid="timeline-message"][data-private="true"]')
    await expect(note).to_contain_text(NOTE)
    assert await bob.locator('[data-testid="timeline-message"] b').count() == 0
    await expect(bob.get_by_test_id("transfer-info")).to_contain_text("with a note")
    # Bob declines: routing offers it to the other agent, never straight back to the one who
    # handed it on, though she is available with room.
    await offer.get_by_test_id("offer-decline").click()
    await expect(loser.get_by_test_id("offers").get_by_test_id("conv-item")).to_have_count(1, timeout=15000)
    await expect(winner.get_by_test_id("offers").get_by_test_id("conv-item")).to_have_count(0)
    assert errors == []
    assert await winner.locator(".toast-error").count() == 0, await winner.locator(".toast-error").all_inner_texts()
