"""The knowledge base and canned replies over HTTP: Chinese and English search, sanitised
articles, suggestions by intent, roles (agents read, supervisors write) and a clear 4xx for bad input."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from hub.bootstrap import RunningHub
from tests.clients import AgentClient

ARTICLE = ("# 突然停电怎么办\n\n如果您家突然停电，请先检查漏电保护器是否跳闸；"  # noqa: RUF001
           "若邻居家也停电，请拨打95598报修。\n\n<script>alert('x')</script>\n\n"  # noqa: RUF001
           "<img src=x onerror=\"alert(1)\"> [地图](https://northgridpower.example/outages)")


@pytest.fixture
async def sara(hub: RunningHub) -> AsyncIterator[AgentClient]:
    client = await AgentClient(hub.base_url).login("sara")  # a supervisor
    yield client
    await client.close()


@pytest.fixture
async def alice(hub: RunningHub) -> AsyncIterator[AgentClient]:
    client = await AgentClient(hub.base_url).login("alice")  # an agent
    yield client
    await client.close()


async def test_articles_search_suggestions_and_roles(sara: AgentClient, alice: AgentClient) -> None:
    await sara.call("POST", "/api/knowledge/categories", {"id": "outages", "name": "停电与抢修"}, expect=201)
    await sara.call("POST", "/api/knowledge/categories", {"id": "outages", "name": "again"}, expect=409)
    created = (await sara.call("POST", "/api/knowledge/articles", {
        "title": "突然停电的处理", "body": ARTICLE, "category": "outages", "language": "zh",
        "intents": ["report_outage"]}, expect=201))["article"]
    await sara.call("POST", "/api/knowledge/categories", {"id": "billing", "name": "Billing"}, expect=201)
    await sara.call("POST", "/api/knowledge/articles", {
        "title": "Paying your bill", "body": "Pay online or by **bank transfer**.", "category": "billing",
        "language": "en", "intents": ["pay_bill"]}, expect=201)

    # The sanitised page: no script, no handler; the Markdown rendered.
    article = (await alice.call("GET", f"/api/knowledge/articles/{created['id']}"))["article"]
    assert "<h1>突然停电怎么办</h1>" in article["html"]
    assert "<script" not in article["html"] and "onerror" not in article["html"]
    assert 'href="https://northgridpower.example/outages"' in article["html"]

    # A Chinese word in the middle of a sentence; English, any case; a category; nothing.
    for query, titles in [("漏电保护器", ["突然停电的处理"]), ("跳闸", ["突然停电的处理"]),
                          ("BANK transfer", ["Paying your bill"]), ("电费", []), ("停电", ["突然停电的处理"])]:
        found = (await alice.call("GET", f"/api/knowledge/articles?q={query}"))["articles"]
        assert [a["title"] for a in found] == titles, query
    everything = (await alice.call("GET", "/api/knowledge/articles?category=billing"))["articles"]
    assert [a["title"] for a in everything] == ["Paying your bill"]

    # Suggested from the handover card's intent.
    suggested = (await alice.call("GET", "/api/knowledge/suggestions?intent=report_outage"))["articles"]
    assert [a["id"] for a in suggested] == [created["id"]] and "html" in suggested[0]

    # Agents read, supervisors write.
    await alice.call("POST", "/api/knowledge/articles", {"title": "x", "body": "y", "category": "billing"},
                     expect=403)
    await alice.call("DELETE", f"/api/knowledge/articles/{created['id']}", expect=403)
    await alice.call("POST", "/api/canned_replies", {"title": "x", "text": "y"}, expect=403)
    await sara.call("PUT", f"/api/knowledge/articles/{created['id']}", {
        "title": "突然停电的处理（更新）", "body": "检查漏电保护器。", "category": "outages",  # noqa: RUF001
        "language": "zh", "intents": ["report_outage"]})
    assert (await alice.call("GET", "/api/knowledge/articles?q=跳闸"))["articles"] == []
    await sara.call("DELETE", f"/api/knowledge/articles/{created['id']}")
    await alice.call("GET", f"/api/knowledge/articles/{created['id']}", expect=404)


async def test_canned_replies_with_variables(sara: AgentClient, alice: AgentClient) -> None:
    reply = (await sara.call("POST", "/api/canned_replies", {
        "title": "工单已受理", "text": "您好{customer_name}，您的工单{order_number}已受理。"},  # noqa: RUF001
        expect=201))["canned_reply"]
    assert reply["variables"] == ["customer_name", "order_number"]
    await sara.call("POST", "/api/canned_replies", {"title": "Thanks", "text": "Thank you, {customer_name}!"},
                    expect=201)
    bad = await sara.call("POST", "/api/canned_replies", {"title": "Bad", "text": "Hi {custmer_name}"}, expect=400)
    assert "{custmer_name}" in bad["error"]["message"] and "{customer_name}" in bad["error"]["message"]
    listed = await alice.call("GET", "/api/canned_replies?q=工单")
    assert [r["title"] for r in listed["canned_replies"]] == ["工单已受理"]
    assert "order_number" in listed["variables"]
    everything = {r["title"] for r in (await alice.call("GET", "/api/canned_replies"))["canned_replies"]}
    assert {"工单已受理", "Thanks", "Greeting"} <= everything  # the demo's replies too
    assert [r["id"] for r in (await alice.call("GET", "/api/canned_replies?q=outage"))["canned_replies"]] == [
        "outage-known"]
    await sara.call("PUT", f"/api/canned_replies/{reply['id']}", {"title": "t", "text": "{nope}"}, expect=400)
    await sara.call("DELETE", f"/api/canned_replies/{reply['id']}")
    await sara.call("DELETE", f"/api/canned_replies/{reply['id']}", expect=404)


async def test_bad_input_gets_a_clear_4xx(hub: RunningHub, sara: AgentClient) -> None:
    await sara.call("POST", "/api/knowledge/categories", {"id": "faq", "name": "FAQ"}, expect=201)
    good = {"title": "t", "body": "b", "category": "faq", "language": "en"}
    for change, code in [({"category": "nope"}, "invalid_input"), ({"category": "Bad Id"}, "invalid_input"),
                         ({"language": "fr"}, "invalid_input"), ({"intents": ["not an intent"]}, "invalid_input"),
                         ({"title": ""}, "invalid_input"), ({"body": "x" * 50_001}, "invalid_input"),
                         ({"title": "\ud800"}, "invalid_text")]:
        answer = await sara.call("POST", "/api/knowledge/articles", {**good, **change}, expect=400)
        assert answer["error"]["code"] == code, change
    await sara.call("POST", "/api/knowledge/articles", {**good, "intents": ["faq_hours"]}, expect=201)
    taken = await sara.call("POST", "/api/knowledge/articles", {**good, "intents": ["faq_hours"]}, expect=400)
    assert "answered by article" in taken["error"]["message"]
    await sara.call("POST", "/api/knowledge/categories", {"id": "", "name": "x"}, expect=400)
    await sara.call("GET", "/api/knowledge/articles?q=" + "x" * 201, expect=400)
    await sara.call("GET", "/api/knowledge/articles?q=%21%21", expect=400)
    await sara.call("GET", "/api/knowledge/suggestions", expect=400)
    await sara.call("PUT", "/api/knowledge/articles/kb_missing", good, expect=404)
    async with aiohttp.ClientSession() as anonymous, anonymous.get(hub.base_url + "/api/knowledge/articles") as r:
        assert r.status == 401
    headers = {"X-CSRF-Token": sara.csrf, "Content-Type": "application/json"}
    async with sara.session.post(hub.base_url + "/api/canned_replies", data=b"{not json", headers=headers) as r:
        assert r.status == 400 and (await r.json())["error"]["code"] == "bad_json"
