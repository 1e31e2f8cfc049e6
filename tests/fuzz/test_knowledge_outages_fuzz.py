"""Hostile bodies against the knowledge base's and the outages' write endpoints (real SecantusDB and
Redis): a clear 4xx or a success, never a 5xx; a refused body stores nothing; the hub serves afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.bootstrap import RunningHub
from hub.storage.database import Db
from tests.clients import AgentClient
from tests.fuzz.profile import fuzz
from tests.fuzz.strategies import console_bodies, hostile_text

TIMES = st.datetimes().map(lambda d: d.isoformat()) | st.just("2026-12-03T08:00:00+08:00") | hostile_text()
ENDPOINTS = {
    "/api/knowledge/articles": ("kb_articles", {
        "title": hostile_text(), "body": hostile_text(), "category": st.just("faq") | hostile_text(),
        "language": st.sampled_from(["zh", "en", "fr"]), "intents": st.lists(hostile_text(10), max_size=3)}),
    "/api/canned_replies": ("canned_replies", {"title": hostile_text(), "text": hostile_text()}),
    "/api/outages": ("outages", {"area": hostile_text(), "cause": hostile_text(), "start": TIMES,
                                 "expected_restoration": TIMES}),
}


@pytest.fixture
async def sara(hub: RunningHub) -> AsyncIterator[AgentClient]:
    client = await AgentClient(hub.base_url).login("sara")
    await client.call("POST", "/api/knowledge/categories", {"id": "faq", "name": "FAQ"}, expect=201)
    yield client
    await client.close()


@fuzz(60)
@given(st.sampled_from(sorted(ENDPOINTS)), st.data())
async def test_write_endpoints(hub: RunningHub, db: Db, sara: AgentClient, path: str, data: st.DataObject) -> None:
    collection, fields = ENDPOINTS[path]
    body = data.draw(console_bodies(fields))
    before = await db[collection].count_documents({})
    headers = {"X-CSRF-Token": sara.csrf, "Content-Type": "application/json"}
    async with sara.session.post(hub.base_url + path, data=body, headers=headers) as response:
        assert response.status in {201, 400, 413}, (response.status, await response.text())
        if response.status != 201:
            assert (await response.json())["error"]["code"]
        created = response.status == 201
    assert await db[collection].count_documents({}) == before + int(created)
    assert (await sara.call("GET", "/api/knowledge/articles?q=x"))["articles"] is not None
