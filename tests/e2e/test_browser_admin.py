"""Administration and never missing an offer, in a real browser (issue 16 items 3 and 7, issue 15).

An admin creates an agent on the administration page (her name's markup shown as text), publishes
a knowledge article that the knowledge search then finds by a Chinese word, and reads the audit
trail; an agent gets 403 for the page. The new agent logs in and receives offers: with the tab
hidden an offer raises a desktop notification; a customer writing in a conversation that is not
open raises one too, counts unread on that conversation and in the tab title, until she opens it.
A supervisor pauses her from the same page (without the admins' sections); her top bar follows live.
"""

from __future__ import annotations

import re

import aiohttp
from playwright.async_api import Browser, Page, expect

from hub.bootstrap import RunningHub
from tests.clients import AgentClient, WidgetClient

PASSWORD = "gina-secret-2026"
SHOWN_NAME = 'Gina <img src=x onerror="window.__adm=1">'
ARTICLE = "# 停电怎么办\n\n先检查家里的总闸。再拨打 95598 报修。\n\n<script>window.__kb = 1</script>"

# Records what the page asks to notify (the real Notification still runs) and lets the test hide the tab.
WATCH = """
window.__notes = [];
const Real = window.Notification;
window.Notification = new Proxy(Real, { construct(target, args) {
  window.__notes.push({ title: String(args[0]), body: String((args[1] || {}).body || '') });
  return new target(...args);
} });
let hidden = false;
window.__hide = (value) => { hidden = value; };
Object.defineProperty(Document.prototype, 'visibilityState',
  { configurable: true, get() { return hidden ? 'hidden' : 'visible'; } });
"""


async def page_of(browser: Browser, base_url: str, username: str, password: str = "northgrid-demo", *,
                  notifications: bool = False) -> Page:
    context = await browser.new_context(permissions=["notifications"] if notifications else [])
    page = await context.new_page()
    if notifications:
        await page.add_init_script(WATCH)
    await page.goto(f"{base_url}/console/login")
    await page.get_by_test_id("login-username").fill(username)
    await page.get_by_test_id("login-password").fill(password)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("agent-name")).not_to_be_empty()
    return page


async def test_admin_creates_an_agent_who_gets_offers_and_alerts(hub: RunningHub, browser: Browser) -> None:
    admin = await page_of(browser, hub.base_url, "admin")
    await admin.get_by_test_id("nav-admin").click()
    await expect(admin).to_have_url(re.compile(r"/console/admin$"))
    create = admin.get_by_test_id("agent-create")
    await create.locator("[name=username]").fill("gina")
    await create.locator("[name=display_name]").fill(SHOWN_NAME)
    await create.locator("[name=password]").fill(PASSWORD)
    await create.locator("[name=skills]").fill("general, billing")
    await create.locator("[name=cap_webchat]").fill("2")
    await create.get_by_role("button", name="Create agent").click()
    await expect(create.get_by_test_id("agent-create-status")).to_have_text("Saved.")
    row = admin.get_by_test_id("agent-row").filter(has_text="gina")
    await expect(row).to_contain_text(SHOWN_NAME)  # the markup as text
    await expect(row).to_contain_text("webchat 2")
    await create.locator("[name=username]").fill("gina")  # taken: the server's message, nothing created
    await create.locator("[name=display_name]").fill("Another")
    await create.locator("[name=password]").fill(PASSWORD)
    await create.get_by_role("button", name="Create agent").click()
    await expect(create.get_by_test_id("agent-create-status")).to_contain_text("already exists")

    # A queue with business hours (issue 16 item 6's field), shown in the list.
    queue = admin.get_by_test_id("queue-save")
    await queue.locator("[name=id]").fill("meters")
    await queue.locator("[name=name]").fill("Meter readings")
    await queue.locator("[name=skills]").fill("meters")
    await queue.locator("[name=hours]").fill("mon=08:00-20:00, sat=09:00-12:00")
    await queue.get_by_role("button", name="Save queue").click()
    await expect(admin.get_by_test_id("queue-row").filter(has_text="meters")).to_contain_text(
        "mon 08:00-20:00, sat 09:00-12:00")
    await queue.locator("[name=hours]").fill("mon=8-20")
    await queue.get_by_role("button", name="Save queue").click()
    await expect(queue.get_by_test_id("queue-save-status")).to_contain_text("business hours")

    # A wrap-up code saved, then deleted from its row.
    code = admin.get_by_test_id("code-save")
    await code.locator("[name=code]").fill("meter_swapped")
    await code.locator("[name=label]").fill("Meter swapped")
    await code.get_by_role("button", name="Save code").click()
    swapped = admin.get_by_test_id("code-row").filter(has_text="meter_swapped")
    await expect(swapped).to_have_count(1)
    await swapped.get_by_test_id("code-delete").click()
    await expect(swapped).to_have_count(0)

    # Knowledge: a category, then an article in Chinese; the search finds it by a Chinese word.
    category = admin.get_by_test_id("kb-category")
    await category.locator("[name=id]").fill("outages")
    await category.locator("[name=name]").fill("停电")
    await category.get_by_role("button", name="Add category").click()
    await expect(category.get_by_test_id("kb-category-status")).to_have_text("Saved.")
    article = admin.get_by_test_id("kb-article")
    await expect(article.locator("[name=category] option[value=outages]")).to_have_count(1)
    await article.locator("[name=title]").fill("停电报修指南")
    await article.locator("[name=category]").select_option("outages")
    await article.locator("[name=body]").fill(ARTICLE)
    await article.get_by_role("button", name="Publish article").click()
    await expect(admin.get_by_test_id("kb-article-status")).to_have_text("Saved.")
    search = admin.get_by_test_id("kb-search")
    await search.locator("[name=q]").fill("总闸")
    await search.get_by_role("button", name="Search").click()
    await expect(admin.get_by_test_id("kb-row")).to_have_count(1)
    await expect(admin.get_by_test_id("kb-row")).to_contain_text("停电报修指南")
    # Edited in place: the form opens with the article's values (its Markdown too) and saves with PUT.
    await admin.get_by_test_id("kb-row").get_by_test_id("kb-edit").click()
    await expect(admin.get_by_test_id("kb-article-heading")).to_have_text("Edit “停电报修指南”")
    await expect(article.locator("[name=body]")).to_have_value(ARTICLE)
    await expect(article.locator("[name=category]")).to_have_value("outages")
    await article.locator("[name=title]").fill("停电报修指南 新版")
    await article.get_by_role("button", name="Save article").click()
    await expect(admin.get_by_test_id("kb-row")).to_contain_text("停电报修指南 新版")
    await expect(admin.get_by_test_id("kb-article-heading")).to_have_text("New article")
    await expect(article.locator("[name=title]")).to_have_value("")
    alice = await AgentClient(hub.base_url).login("alice")
    try:  # an agent's knowledge search finds it too; the admin API answers her 403
        found = (await alice.call("GET", "/api/knowledge/articles?q=%E6%80%BB%E9%97%B8"))["articles"]
        assert [a["title"] for a in found] == ["停电报修指南 新版"]
        await alice.call("POST", "/api/agents", {}, expect=403)
        async with alice.session.get(f"{hub.base_url}/console/admin") as page:
            assert page.status == 403
    finally:
        await alice.close()
    audit = admin.get_by_test_id("adm-audit")
    await audit.get_by_test_id("audit-refresh").click()
    await expect(audit.get_by_test_id("audit-row").filter(has_text="agent.created")).to_contain_text("gina")
    await expect(audit.get_by_test_id("audit-row").filter(has_text="article.created")).to_contain_text("停电报修指南")
    await expect(audit.get_by_test_id("audit-row").filter(has_text="article.changed")).to_contain_text("新版")
    assert await admin.evaluate("window.__adm") is None and await admin.evaluate("window.__kb") is None

    # The new agent logs in and works.
    gina = await page_of(browser, hub.base_url, "gina", PASSWORD, notifications=True)
    await expect(gina.get_by_test_id("alerts-enable")).to_be_hidden()  # permission already granted
    await gina.get_by_test_id("agent-status").select_option("available")
    async with aiohttp.ClientSession() as http:
        first, second = WidgetClient(hub.base_url, http), WidgetClient(hub.base_url, http)
        await first.connect(name="Ann")
        await first.say("my power is out")
        offers = gina.get_by_test_id("offers").get_by_test_id("conv-item")
        await expect(offers).to_have_count(1)
        await expect(gina).to_have_title(re.compile(r"^\(1\) "))
        await offers.get_by_test_id("offer-accept").click()
        await expect(gina.get_by_test_id("conversation")).to_be_visible()
        # Tab hidden: the next offer is a desktop notification.
        await gina.evaluate("window.__hide(true)")
        await second.connect(name="Ben")
        await second.say("a question about my bill")
        await expect(offers).to_have_count(1)
        notes = await gina.evaluate("window.__notes")
        assert any(n["title"] == "New webchat conversation offered" for n in notes), notes
        await gina.evaluate("window.__hide(false)")
        await offers.get_by_test_id("offer-accept").click()
        await expect(gina).to_have_title("Northgrid Hub")
        # Ben's conversation is the open one before Ann writes (a message of the open conversation
        # is read as it arrives: on a slow machine the switch could come after her first line).
        ben = gina.get_by_test_id("assigned").get_by_test_id("conv-item").filter(has_text="Ben")
        await expect(ben).to_have_attribute("aria-current", "true")
        # Ann writes while Ben's conversation is open: unread counts and a notification.
        await first.say("still no power")
        await first.say("hello?")
        ann = gina.get_by_test_id("assigned").get_by_test_id("conv-item").filter(has_text="Ann")
        await expect(ann.get_by_test_id("unread-count")).to_have_text("2")
        await expect(gina).to_have_title(re.compile(r"^\(2\) "))
        notes = await gina.evaluate("window.__notes")
        assert any(n["title"] == "Ann wrote" and n["body"] == "hello?" for n in notes), notes
        await ann.click()
        await expect(ann.get_by_test_id("unread-count")).to_be_hidden()
        await expect(gina).to_have_title("Northgrid Hub")
        await first.close()
        await second.close()
    # A supervisor pauses her from the administration page; her own top bar follows at once.
    sara = await page_of(browser, hub.base_url, "sara")
    await sara.goto(f"{hub.base_url}/console/admin")
    await expect(sara.get_by_test_id("agent-create")).to_have_count(0)  # admins only
    await expect(sara.get_by_test_id("adm-audit")).to_have_count(0)
    picker = sara.get_by_test_id("agent-row").filter(has_text="gina").get_by_test_id("agent-status-set")
    await picker.select_option("paused:lunch")
    await expect(gina.get_by_test_id("agent-status")).to_have_value("paused:lunch")
    await expect(sara.get_by_test_id("agent-row").filter(has_text="gina").get_by_test_id("agent-status-set")
                 ).to_have_value("paused:lunch")
