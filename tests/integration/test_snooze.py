"""Snooze over real HTTP (issue 16 item 2, ADR 0049; docs/api.md "Snooze"): an agent snoozes a
conversation she holds; it stays hers and wakes when due (on a stepped clock), at once when the
customer writes, or by hand; a restart in between loses no wake-up; bad input gets a clear 4xx."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.clock import SystemClock
from hub.config import Settings
from hub.settings.acd import SnoozeSettings
from tests.clients import AgentClient
from tests.conftest import eventually
from tests.integration.test_contacts import inbound


class SteppedClock:
    """The system clock plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return SystemClock().now() + self.offset


@pytest.fixture
def snoozy(settings: Settings) -> Settings:
    return settings.model_copy(update={"snooze": SnoozeSettings(poll_s=0.2)})


async def last_event(hub: RunningHub, conversation_id: str) -> dict[str, Any]:
    return (await hub.context.conversations.events_of(conversation_id))[-1]


async def woken(hub: RunningHub, conversation_id: str, reason: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        event = await last_event(hub, conversation_id)
        return event if event["type"] == "woken" and event["detail"] == {"reason": reason} else None

    event = await eventually(check, timeout=20)
    doc = await hub.context.conversations.get_doc(conversation_id)
    assert doc["state"] == "assigned" and doc["snoozed_until"] is None
    return event


async def held(hub: RunningHub, alice: AgentClient, phone: str) -> str:
    await inbound(hub, "sms", phone, "my meter reading looks wrong")
    return await alice.take_offer()


async def test_snooze_wakes_when_due_when_the_customer_writes_and_by_hand(
        snoozy: Settings, mongo_url: str, redis_url: str, redis: Redis) -> None:
    clock = SteppedClock()
    async with running_hub(snoozy, mongo_url=mongo_url, redis_url=redis_url, clock=clock) as hub:
        await load_demo(hub.context.directory)
        alice, bob = await AgentClient.online(hub.base_url, "alice"), await AgentClient(hub.base_url).login("bob")
        try:
            cid = await held(hub, alice, "+8613700000001")
            before = clock.now()
            answer = await alice.call("POST", f"/api/conversations/{cid}/snooze", {"preset": "1h"})
            summary = answer["conversation"]
            assert summary["state"] == "assigned" and summary["agent_id"] == alice.agent["id"]
            until = datetime.fromisoformat(summary["snoozed_until"])
            assert timedelta(minutes=59) < until - before < timedelta(minutes=61)
            frame = await alice.next("conversation", event="snoozed", conversation__id=cid)
            assert frame["conversation"]["snoozed_until"] == summary["snoozed_until"]
            event = await last_event(hub, cid)
            assert event["type"] == "snoozed" and event["actor"] == alice.agent["id"]
            inbox = await alice.call("GET", "/api/inbox")
            assert [c["snoozed_until"] for c in inbox["assigned"] if c["id"] == cid] == [summary["snoozed_until"]]

            # Bad input: a clear 4xx each, and the snooze untouched.
            for bad in ({}, {"preset": "someday"}, {"preset": "1h", "until": "2030-01-01T00:00:00Z"},
                        {"until": "not a time"}, {"until": (before - timedelta(hours=1)).isoformat()},
                        {"until": (before + timedelta(days=40)).isoformat()}, {"until": "2030-01-01T09:00:00"}):
                await alice.call("POST", f"/api/conversations/{cid}/snooze", bad, expect=400)
            await bob.call("POST", f"/api/conversations/{cid}/snooze", {"preset": "1h"}, expect=403)
            await bob.call("POST", f"/api/conversations/{cid}/wake", expect=403)
            await alice.call("POST", "/api/conversations/c_nosuchconversation/snooze", {"preset": "1h"}, expect=404)
            assert (await last_event(hub, cid))["type"] == "snoozed"

            # Due: an hour later on the hub's clock, the sweep wakes it; alice's console is told.
            clock.offset = timedelta(minutes=61)
            await woken(hub, cid, "due")
            frame = await alice.next("conversation", event="woken", conversation__id=cid)
            assert frame["conversation"]["snoozed_until"] is None

            # The customer writes: it wakes at once, long before it is due.
            await alice.call("POST", f"/api/conversations/{cid}/snooze", {"preset": "tomorrow"})
            await inbound(hub, "sms", "+8613700000001", "any news?")
            await woken(hub, cid, "customer")

            # By hand; a second wake is refused; a snoozed conversation transferred is snoozed no more.
            await alice.call("POST", f"/api/conversations/{cid}/snooze", {"preset": "1h"})
            assert (await alice.call("POST", f"/api/conversations/{cid}/wake"))["conversation"]["snoozed_until"] is None
            assert (await last_event(hub, cid))["detail"] == {"reason": "agent"}
            await alice.call("POST", f"/api/conversations/{cid}/wake", expect=400)
            await alice.call("POST", f"/api/conversations/{cid}/snooze", {"preset": "1h"})
            await alice.call("POST", f"/api/conversations/{cid}/transfer", {"queue": "billing"})
            doc = await hub.context.conversations.get_doc(cid)
            assert doc["state"] == "queued" and doc["snoozed_until"] is None
            await alice.call("POST", f"/api/conversations/{cid}/snooze", {"preset": "1h"}, expect=403)
        finally:
            await alice.close()
            await bob.close()


async def test_a_snooze_survives_a_restart(snoozy: Settings, mongo_url: str, redis_url: str, redis: Redis) -> None:
    clock = SteppedClock()
    async with running_hub(snoozy, mongo_url=mongo_url, redis_url=redis_url, clock=clock) as first:
        await load_demo(first.context.directory)
        alice = await AgentClient.online(first.base_url, "alice")
        try:
            due = await held(first, alice, "+8613700000002")
            written = await held(first, alice, "+8613700000003")
            await alice.call("POST", f"/api/conversations/{due}/snooze", {"preset": "1h"})
            await alice.call("POST", f"/api/conversations/{written}/snooze", {"preset": "tomorrow"})
        finally:
            await alice.close()
    clock.offset = timedelta(minutes=61)  # it fell due while no hub ran
    async with running_hub(snoozy, mongo_url=mongo_url, redis_url=redis_url, clock=clock) as second:
        await woken(second, due, "due")
        assert (await second.context.conversations.get_doc(written))["snoozed_until"] is not None
        # The new process learnt the other snooze from the stored state, not from a live fact.
        await inbound(second, "sms", "+8613700000003", "hello again")
        await woken(second, written, "customer")
        assert datetime.now(UTC) - (await last_event(second, written))["at"] < timedelta(hours=2)
