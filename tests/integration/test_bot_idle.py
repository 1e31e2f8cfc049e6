"""Conversations the bot contained are resolved once nobody wrote for ``HUB_BOT__IDLE_RESOLVE_S``
(hub/bot_idle.py, ADR 0079): by the bot, as contained, counted in the figures; a conversation
with a recent message, a call with the voice bot and a conversation no longer with the bot stay
as they are.

The conversations are stored as the core stores them (their documents, events through the real
numbering, inbox lines with the last message time), so the sweep of a running hub finds them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.bot_idle import is_idle
from hub.config import BotSettings
from hub.storage.database import Db
from tests.clients import AgentClient
from tests.conftest import eventually, make_settings
from tests.integration.test_kpi_history import Script, projected, write

IDLE = timedelta(seconds=60)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def idle_hub(mongo_url: str, redis_url: str, redis: Redis, db_name: str) -> AsyncIterator[RunningHub]:
    settings = make_settings(db_name).model_copy(update={
        "bot": BotSettings(idle_resolve_s=IDLE.total_seconds(), idle_poll_s=0.2)})
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as running:
        await load_demo(running.context.directory)
        yield running


def with_bot(cid: str, channel: str, since: datetime) -> Script:
    return Script(cid, channel, f"Customer {cid}", since).step("created", "new", 0).step("bot_started", "bot", 0)


async def last_event(hub: RunningHub, cid: str) -> dict[str, Any]:
    events = await hub.context.conversations.events_of(cid)
    return events[-1]


async def test_the_bots_idle_conversations_are_resolved_as_contained_and_counted(idle_hub: RunningHub,
                                                                                  db: Db) -> None:
    now = idle_hub.context.clock.now()
    long_ago = now - timedelta(minutes=10)
    quiet = with_bot("B-quiet", "webchat", long_ago)  # the last message 5 minutes ago
    silent = with_bot("B-silent", "sms", now - timedelta(minutes=2))  # nobody wrote at all
    talking = with_bot("B-talking", "webchat", long_ago)  # the customer wrote 10 seconds ago
    call = with_bot("B-call", "voice", long_ago)  # a call with the voice bot ends with the call
    handed = with_bot("B-handed", "telegram", long_ago).step("handed_over", "queued", 5, queue="general")
    await write(db, [quiet, silent, talking, call, handed])
    await db["inbox_lines"].insert_many([
        {"_id": "B-quiet", "last_message_at": now - timedelta(minutes=5)},
        {"_id": "B-talking", "last_message_at": now - timedelta(seconds=10)}])

    async def resolved() -> bool:
        return [(await last_event(idle_hub, cid))["type"] for cid in ("B-quiet", "B-silent")] == ["resolved"] * 2

    await eventually(resolved, timeout=20)
    for cid in ("B-quiet", "B-silent"):
        event = await last_event(idle_hub, cid)
        assert (event["from_state"], event["to_state"], event["actor"], event["detail"]) == (
            "bot", "resolved", "bot", {"reason": "idle"})
        assert (await idle_hub.context.conversations.get(cid)).state.value == "resolved"
    # They were candidates in the same rounds: still as they were.
    for cid, state in (("B-talking", "bot"), ("B-call", "bot"), ("B-handed", "queued")):
        assert (await idle_hub.context.conversations.get(cid)).state.value == state, cid

    # Contained: the figures count them resolved by the bot (4 conversations with the bot, 2 resolved by it).
    await eventually(lambda: projected(db), timeout=20)
    first, last = (t.astimezone(SHANGHAI).date().isoformat() for t in (long_ago, idle_hub.context.clock.now()))
    sara = await AgentClient(idle_hub.base_url).login("sara")
    try:
        data = await sara.call("GET", f"/api/kpi/history?from={first}&to={last}")
    finally:
        await sara.close()
    assert sum(r["with_bot"] for r in data["rows"]) == 5
    assert sum(r["resolved_by_bot"] for r in data["rows"]) == 2


def test_idle_is_the_time_since_anything_happened_and_never_a_call() -> None:
    now = datetime(2026, 3, 10, 8, 0).astimezone()
    doc = {"channel": "webchat", "created_at": now - timedelta(hours=1), "updated_at": now - timedelta(minutes=30)}
    assert is_idle(doc, now, IDLE)
    assert not is_idle({**doc, "last_message_at": now - timedelta(seconds=59)}, now, IDLE)
    assert is_idle({**doc, "last_message_at": now - timedelta(seconds=60)}, now, IDLE)
    assert not is_idle({**doc, "updated_at": now - timedelta(seconds=1)}, now, IDLE)  # it just came to the bot
    assert not is_idle({**doc, "channel": "voice"}, now, IDLE)
