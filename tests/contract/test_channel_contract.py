"""The same contract for every store-and-forward channel adapter, each against its real peer.

SMS runs through a real Kannel and a fake SMSC, e-mail through Dovecot and a real SMTP server,
Telegram through our Bot API stand-in. Each ``tests/contract/harness_<channel>.py`` starts the
peer and a hub wired to it; the tests below only speak the harness's vocabulary, so a new
channel proves the same things by adding one harness.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hub.domain.ids import ConversationId, MessageId
from hub.domain.outbound import Outbound
from hub.errors import ChannelSendError
from hub.storage.database import Db
from tests.conftest import eventually

CHANNELS = ("sms", "email", "telegram")
CHINESE = "您好，我家停电了，请尽快派人来修理。谢谢！"  # noqa: RUF001 (Chinese punctuation)


@pytest.fixture(params=CHANNELS)
async def channel(request: pytest.FixtureRequest, mongo_url: str, redis_url: str, db_name: str) -> AsyncIterator[Any]:
    module = importlib.import_module(f"tests.contract.harness_{request.param}")
    async with module.harness(mongo_url=mongo_url, redis_url=redis_url, db_name=db_name) as harness:
        yield harness


def outbound(channel: Any, address: str, text: str, *, buttons: tuple[dict[str, str], ...] = ()) -> Outbound:
    return Outbound(message_id=MessageId(f"m_contract_{id(text)}"), conversation_id=ConversationId("c_contract"),
                    channel=channel.channel, address=address, text=text, author_name="Alice Wang", buttons=buttons)


async def test_inbound_is_parsed_and_stored_in_a_conversation(channel: Any, db: Db) -> None:
    address = channel.customer_address()
    await channel.customer_sends(address, CHINESE)
    messages = await eventually(lambda: _inbound(db, channel))
    assert CHINESE in [m["text"].strip() for m in messages]
    stored = next(m for m in messages if m["text"].strip() == CHINESE)
    assert stored["channel"] == channel.channel and stored["author"] == "customer"
    conversation = await channel.hub.context.desk.conversation(stored["conversation_id"])
    assert conversation.state.value in {"bot", "queued", "offered", "assigned"}


async def test_send_reaches_the_customer_in_chinese(channel: Any) -> None:
    address = channel.customer_address()
    result = await channel.sender.send(outbound(channel, address, CHINESE))
    assert result.provider_ids, "the provider's id is what delivery reports and threads refer to"
    received = await channel.customer_received(address, timeout_s=15)
    assert any(CHINESE in text for text in received)


async def test_buttons_reach_the_customer_in_some_form(channel: Any) -> None:
    address = channel.customer_address()
    buttons = ({"title": "Pay my bill", "payload": "/pay_bill"}, {"title": "Talk to a person", "payload": "/human"})
    await channel.sender.send(outbound(channel, address, "What would you like to do?", buttons=buttons))
    received = await channel.customer_received(address, timeout_s=15)
    assert any("What would you like to do?" in text for text in received)
    assert channel.buttons_seen(address) or any("1. Pay my bill" in text for text in received)


async def test_unreachable_peer_is_a_retryable_error(channel: Any) -> None:
    await channel.peer_down()
    try:
        with pytest.raises(ChannelSendError) as raised:
            await channel.sender.send(outbound(channel, channel.customer_address(), "anyone there?"))
        assert raised.value.retryable
    finally:
        await channel.peer_up()
    result = await channel.sender.send(outbound(channel, channel.customer_address(), "back again"))
    assert result.provider_ids


async def test_invalid_address_is_a_permanent_error(channel: Any) -> None:
    with pytest.raises(ChannelSendError) as raised:
        await channel.sender.send(outbound(channel, channel.invalid_address(), "hello"))
    assert not raised.value.retryable


async def test_redelivered_inbound_is_stored_once(channel: Any, db: Db) -> None:
    address = channel.customer_address()
    await channel.customer_sends(address, "meter reading 04512")
    await eventually(lambda: _has_text(db, channel, "meter reading 04512"))
    await channel.redeliver_last_inbound()
    await asyncio.sleep(1.0)  # give the repeat every chance to be stored twice
    texts = [m["text"].strip() for m in await _inbound(db, channel)]
    assert texts.count("meter reading 04512") == 1


async def test_cancelled_send_leaves_the_adapter_usable(channel: Any) -> None:
    address = channel.customer_address()
    task = asyncio.create_task(channel.sender.send(outbound(channel, address, "cancel me")))
    await asyncio.sleep(0)  # let it start its request
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    result = await channel.sender.send(outbound(channel, address, "after the cancellation"))
    assert result.provider_ids
    received = await channel.customer_received(address, timeout_s=15)
    assert any("after the cancellation" in text for text in received)


async def _inbound(db: Db, channel: Any) -> list[dict[str, Any]]:
    return [doc async for doc in db["messages"].find({"channel": channel.channel, "inbound": True})]


async def _has_text(db: Db, channel: Any, text: str) -> bool:
    return any(m["text"].strip() == text for m in await _inbound(db, channel))
