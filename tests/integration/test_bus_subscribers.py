"""The bus on a real Redis: every subscriber has its own queue and task, so a failing one and a stuck
one delay nobody; one subscriber sees its kinds in bus order; what cannot be decoded is skipped."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from hub.bus import CHANNEL, RedisEventBus
from hub.domain.events import BusResubscribed, ConversationChanged, EventType, Fact, RoutingKicked, TypingChanged
from hub.domain.ids import Author, ConversationId
from tests.conftest import eventually


def typing(i: int) -> TypingChanged:
    return TypingChanged(conversation_id=ConversationId(f"c{i}"), who=Author.CUSTOMER, active=i % 2 == 0)


async def test_a_failing_and_a_stuck_subscriber_delay_no_other(redis: Redis) -> None:
    release = asyncio.Event()
    failed: list[Fact] = []
    stuck: list[Fact] = []
    got: list[Fact] = []

    async def fails(fact: TypingChanged) -> None:
        failed.append(fact)
        raise RuntimeError("a subscriber with a bug")

    async def hangs(fact: TypingChanged) -> None:
        stuck.append(fact)
        await release.wait()

    async def records(fact: TypingChanged) -> None:
        got.append(fact)

    async with RedisEventBus(redis, subscriber_queue=5) as bus:
        bus.subscribe(TypingChanged, fails, subscriber="fails")
        bus.subscribe(TypingChanged, hangs, subscriber="hangs")
        bus.subscribe(TypingChanged, records, subscriber="records")
        facts = [typing(i) for i in range(50)]
        for i, fact in enumerate(facts):  # one at a time: the healthy queues never fill
            await bus.publish(fact)
            # Each fact reaches the healthy subscriber while the stuck one is still stuck.
            await eventually(lambda: len(got) == i + 1)  # noqa: B023 (awaited here, in this iteration)
            assert len(stuck) == 1
        assert got == facts
        # The failing one was called for every fact: an exception does not end its task.
        await eventually(lambda: len(failed) == 50)
        assert failed == facts

        # The stuck one's queue kept its newest 5 and counted what it dropped (at most once).
        hung = bus.subscriber("hangs")
        assert hung.backlog == 5 and hung.dropped == 50 - 1 - 5
        release.set()
        await eventually(lambda: len(stuck) == 6)
        assert stuck[1:] == facts[-5:]
        assert bus.subscriber("records").dropped == 0


async def test_one_subscriber_gets_its_kinds_in_bus_order(redis: Redis) -> None:
    seen: list[Fact] = []

    async def record(fact: Fact) -> None:
        seen.append(fact)

    summary = {"id": "c1", "state": "queued", "agent_id": None, "contact": {"id": "k1"}}
    facts: list[Fact] = []
    for i in range(20):
        facts.append(ConversationChanged(event=EventType.QUEUED, version=i, summary=summary, previous_agent=None))
        facts.append(typing(i))
        facts.append(RoutingKicked())
    async with RedisEventBus(redis) as bus:
        bus.subscribe(ConversationChanged, record, subscriber="both")
        bus.subscribe(TypingChanged, record, subscriber="both")
        for fact in facts:
            await bus.publish(fact)
        await eventually(lambda: len(seen) == 40)
    assert seen == [f for f in facts if not isinstance(f, RoutingKicked)]


async def test_what_a_newer_or_broken_process_sends_is_skipped(redis: Redis) -> None:
    got: list[Fact] = []

    async def record(fact: RoutingKicked) -> None:
        got.append(fact)

    async with RedisEventBus(redis) as bus:
        bus.subscribe(RoutingKicked, record)
        for raw in ('{"v":1,"kind":"call_answered","call_id":"x"}', '{"v":7,"kind":"kick"}', '{"t":"kick"}',
                    "not json", '{"v":1,"kind":"typing"}'):
            await redis.publish(CHANNEL, raw)
        await bus.publish(RoutingKicked())
        await eventually(lambda: got == [RoutingKicked()])


async def test_a_dropped_subscription_is_noticed_and_each_subscriber_told(redis: Redis) -> None:
    """redis-py reconnects and subscribes again by itself; the bus hears Redis confirm it, says it
    was not subscribed in between, and hands ``BusResubscribed`` to its subscribers (ADR 0060)."""
    told: list[Fact] = []
    got: list[Fact] = []

    async def recover(fact: BusResubscribed) -> None:
        told.append(fact)

    async def records(fact: TypingChanged) -> None:
        got.append(fact)

    async with RedisEventBus(redis) as bus:
        bus.subscribe(BusResubscribed, recover, subscriber="live")
        bus.subscribe(TypingChanged, records, subscriber="live")
        await bus.probe()  # subscribed: ready
        assert bus.subscriptions == 1 and told == []

        killed = await redis.client_kill_filter(_type="pubsub")  # the listener's connection drops
        assert killed == 1
        await eventually(lambda: told)
        assert told == [BusResubscribed()] and bus.subscriptions == 2 and bus.subscribed
        await bus.probe()
        # The subscription works again: a fact published now arrives.
        await bus.publish(typing(1))
        await eventually(lambda: got == [typing(1)])
        assert told == [BusResubscribed()]  # once per gap


async def test_the_bus_is_not_ready_until_redis_confirms_it_listens(redis: Redis) -> None:
    bus = RedisEventBus(redis)
    with pytest.raises(RedisError):
        await bus.probe()  # not started: not subscribed
    async with bus:
        await bus.probe()
    with pytest.raises(RedisError):
        await bus.probe()  # stopped


async def test_facts_published_within_the_gather_window_share_one_pipeline(redis: Redis) -> None:
    """Each fact published in its own turn of the event loop (as a round trip's facts are): without
    the sender's gather window each would be a pipeline, one socket send, of its own (ADR 0069)."""
    got: list[Fact] = []

    async def records(fact: TypingChanged) -> None:
        got.append(fact)

    facts = [typing(i) for i in range(20)]
    async with RedisEventBus(redis, gather_s=0.5) as bus:
        bus.subscribe(TypingChanged, records)
        for fact in facts:
            await bus.publish(fact)
            await asyncio.sleep(0)  # the sender task gets its turn between two facts
        await bus.flushed()
        assert bus.sends == 1
        await eventually(lambda: len(got) == 20)
        assert got == facts  # in order

    async with RedisEventBus(redis, gather_s=0) as bus:  # without the window: one pipeline per fact
        for fact in facts[:3]:
            await bus.publish(fact)
            await bus.flushed()
        assert bus.sends == 3


async def test_own_facts_reach_this_process_at_once_and_once(redis: Redis) -> None:
    """A process's own facts go to its subscribers when published, before the sender's window and
    Redis's round trip, and are not handed over again when Redis brings them back; another process
    (here a second bus) gets them through Redis (ADR 0074)."""
    here: list[Fact] = []
    there: list[Fact] = []

    async def heard_here(fact: TypingChanged) -> None:
        here.append(fact)

    async def heard_there(fact: TypingChanged) -> None:
        there.append(fact)

    async with RedisEventBus(redis, gather_s=0.5) as bus, RedisEventBus(redis) as other:
        bus.subscribe(TypingChanged, heard_here)
        other.subscribe(TypingChanged, heard_there)
        await bus.publish(typing(1))
        await eventually(lambda: here == [typing(1)])
        assert bus.sends == 0 and there == [], "it waited for Redis"
        await bus.flushed()
        await eventually(lambda: there == [typing(1)])
        # The other process's next fact comes through Redis after this one's own copy (one channel,
        # in order): once it is here, the copy was seen and skipped.
        await other.publish(typing(2))
        await eventually(lambda: len(here) == 2)
        assert here == [typing(1), typing(2)] and there == [typing(1), typing(2)]
        # A process that does not mark its facts (an older hub) is heard as any other.
        await redis.publish(CHANNEL, '{"v":1,"kind":"typing","conversation_id":"c3","who":"customer","active":true}')
        await eventually(lambda: len(here) == 3)
        assert here[-1] == TypingChanged(conversation_id=ConversationId("c3"), who=Author.CUSTOMER, active=True)
