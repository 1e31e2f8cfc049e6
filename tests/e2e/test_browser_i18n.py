"""The console in Chinese and English in a real browser (issue 16 item 9, ADR 0048): a browser in
Chinese gets the login page and the inbox in Chinese with no English left of the translated pages;
the top bar's switcher saves English on the account, which then wins over another browser's
Chinese; the saved choice changes back; the timeline's words and dates follow the language."""

from __future__ import annotations

import json
import re

from playwright.async_api import Browser, Page, expect

from hub.bootstrap import RunningHub
from tests.e2e.conftest import sign_in
from tests.e2e.test_browser_bot import customer_says
from tests.unit.test_console_i18n import EN, ZH

# The English of every page-level text the translated pages show, where Chinese differs.
PAGE_PREFIXES = ("login.", "index.", "nav.", "topbar.", "status.", "snooze.")
ENGLISH = sorted({EN[k] for k in EN if k.startswith(PAGE_PREFIXES) and isinstance(EN[k], str)
                  and EN[k] != ZH[k] and len(EN[k]) >= 4 and "{" not in EN[k]}, key=len, reverse=True)


async def open_console(browser: Browser, base_url: str, username: str, locale: str) -> Page:
    return await sign_in(await (await browser.new_context(locale=locale)).new_page(), base_url, username)


async def english_left(page: Page, texts: list[str] | None = None) -> list[str]:
    """The page's own English: text nodes and labels equal to an English text (data such as the demo's
    wrap-up codes and queue names is the centre's, not the console's)."""
    shown = set(await page.evaluate("""() => {
      const out = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      while (walker.nextNode()) out.push(walker.currentNode.nodeValue.trim());
      for (const e of document.querySelectorAll('[aria-label],[title],[placeholder]')) {
        for (const name of ['aria-label', 'title', 'placeholder']) out.push(e.getAttribute(name) || '');
      }
      return out.filter(Boolean);
    }"""))
    return [english for english in (ENGLISH if texts is None else texts) if english in shown]


async def test_chinese_by_the_browser_then_english_saved_on_the_account(hub: RunningHub, browser: Browser) -> None:
    login = await (await browser.new_context(locale="zh-CN")).new_page()
    await login.goto(f"{hub.base_url}/console/login")
    await expect(login.locator("h1")).to_have_text("登录坐席控制台")
    assert await login.title() == "登录 · Northgrid Hub"
    assert await login.evaluate("document.documentElement.lang") == "zh-CN"
    assert await english_left(login) == []
    await login.get_by_test_id("login-submit").click()  # nothing typed: the page's own error, in Chinese
    await expect(login.get_by_test_id("login-error")).to_have_text("请输入用户名和密码。")
    await login.get_by_test_id("login-username").fill("alice")
    await login.get_by_test_id("login-password").fill("wrong password")
    await login.get_by_test_id("login-submit").click()
    await expect(login.get_by_test_id("login-error")).to_have_text("用户名或密码错误。")

    alice = await open_console(browser, hub.base_url, "alice", "zh-CN")
    errors: list[str] = []
    alice.on("pageerror", lambda exc: errors.append(str(exc)))
    await alice.get_by_test_id("agent-status").select_option("available")
    await expect(alice.locator(".section-assigned .section-title")).to_contain_text("我的会话")
    await expect(alice.locator(".topnav-link.is-current")).to_have_text("收件箱")
    await expect(alice.locator("#agent-role")).to_have_text("坐席")
    await expect(alice.get_by_test_id("language-select")).to_have_value("zh")

    # A customer, an offer, the conversation: its words in Chinese too.
    await customer_says(browser, hub.base_url, "我家停电了")
    offer = alice.get_by_test_id("offers").get_by_test_id("conv-item")
    await expect(offer.get_by_test_id("offer-accept")).to_have_text("接受")
    await offer.get_by_test_id("offer-accept").click()
    conversation = alice.get_by_test_id("conversation")
    await expect(conversation).to_have_attribute("data-state", "assigned")
    await expect(alice.get_by_test_id("day-separator").first).to_have_text("今天")
    await expect(alice.get_by_test_id("snooze-select").locator("option").first).to_have_text("稍后处理…")
    assert await english_left(alice) == []

    # English, saved on her account: it wins over another browser in Chinese.
    async with alice.expect_navigation():
        await alice.get_by_test_id("language-select").select_option("en")
    await expect(alice.locator(".section-assigned .section-title")).to_contain_text("My conversations")
    assert await alice.evaluate("document.documentElement.lang") == "en-GB"
    assert (await hub.context.directory.agent_by_username("alice")).language == "en"  # type: ignore[union-attr]
    other = await open_console(browser, hub.base_url, "alice", "zh-CN")
    await expect(other.locator(".section-assigned .section-title")).to_contain_text("My conversations")
    await expect(other.get_by_test_id("language-select")).to_have_value("en")

    # Back to Chinese from the switcher; bad values are refused by the API.
    async with other.expect_navigation():
        await other.get_by_test_id("language-select").select_option("zh")
    await expect(other.locator(".section-assigned .section-title")).to_contain_text("我的会话")
    assert (await hub.context.directory.agent_by_username("alice")).language == "zh"  # type: ignore[union-attr]
    for bad in ("fr", "<b>", "zh-CN", 7):
        status = await other.evaluate(
            """async (body) => (await fetch('/api/me/language', {method: 'POST', body,
                headers: {'Content-Type': 'application/json',
                          'X-CSRF-Token': sessionStorage.getItem('hub.csrf')}})).status""",
            json.dumps({"language": bad}))
        assert status == 400, bad
    assert re.fullmatch(r"zh-CN", await other.evaluate("document.documentElement.lang"))
    assert errors == []


# Each page with the dictionary prefixes of its own words, and who opens it.
OTHER_PAGES = [
    ("/console/supervisor", "sara", ("sup.", "supjs.", "nav.", "topbar.", "status.")),
    ("/console/wallboard", "sara", ("wb.", "wbjs.", "wbview.", "wbmodel.")),
    ("/console/admin", "sara", ("adm.", "adminjs.", "adminuijs.", "admincontentjs.", "nav.")),
    ("/console/work_orders", "sara", ("wo.", "wojs.")),
    ("/console/quality", "sara", ("qa.", "qajs.")),
    ("/console/reports", "sara", ("rep.", "repjs.")),
    ("/console/trainer", "tom", ("trn.", "trnjs.")),
]


async def test_every_other_page_in_chinese_shows_none_of_its_english(hub: RunningHub, browser: Browser) -> None:
    pages: dict[str, Page] = {}
    for path, username, prefixes in OTHER_PAGES:
        if username not in pages:
            pages[username] = await open_console(browser, hub.base_url, username, "zh-CN")
        page = pages[username]
        errors: list[str] = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        await page.goto(hub.base_url + path)
        if path != "/console/wallboard":  # a wall display: no top bar, the language of who opened it
            await expect(page.get_by_test_id("language-select")).to_have_value("zh")
        await expect(page.locator("body")).not_to_have_class(re.compile(r"is-booting"))
        assert await page.evaluate("document.documentElement.lang") == "zh-CN"
        english = {EN[k] for k in EN if k.startswith(prefixes) and isinstance(EN[k], str) and EN[k] != ZH[k]
                   and len(EN[k]) >= 4 and "{" not in EN[k]}
        left = await english_left(page, sorted(english))
        assert left == [], (path, left)
        assert errors == [], (path, errors)
