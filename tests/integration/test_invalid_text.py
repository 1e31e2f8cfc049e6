"""Text that is not valid Unicode (lone surrogates) is refused at the edge and can never fail a
batch of other people's messages: the group-commit writer isolates the one bad document."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import aiohttp
import pytest

from hub.bootstrap import RunningHub
from hub.domain.ids import Author, ConversationId, DeliveryStatus, ExternalId, MessageId
from hub.domain.model import InboundMessage, Message
from hub.errors import InvalidInput, InvalidText
from hub.storage.database import Db
from hub.storage.message_docs import message_to_doc
from hub.storage.messages import MongoMessageStore
from tests.clients import WidgetClient
from tests.conftest import eventually

LONE_SURROGATE_FRAME = '{"type":"message","client_id":"%s","text":"x \\ud800 y"}'


def _message(text: str, n: int, **extra: object) -> Message:
    fields: dict[str, object] = {"author_name": "Customer", **extra}
    return Message(id=MessageId(f"m_{uuid.uuid4().hex}"), conversation_id=ConversationId(f"c_{n % 3}"),
                   channel="webchat", author=Author.CUSTOMER, author_id=f"k_{n}", text=text,
                   sent_at=datetime.now(UTC), status=DeliveryStatus.SENT,
                   external_id=ExternalId(f"v_{n}:{uuid.uuid4().hex}"), **fields)  # type: ignore[arg-type]


async def test_one_bad_document_fails_alone_and_the_rest_of_its_batch_is_stored(db: Db) -> None:
    good = [_message(f"good {n}", n) for n in range(12)]
    bad_text = _message("x \ud800 y", 100)
    bad_form = _message("fine text", 101, meta={"a\x00b": "a key the database refuses"})
    bad_name = _message("fine text", 102, author_name="Eve \udcff")
    async with MongoMessageStore(db) as store:
        # Added in one go, so they share one group commit.
        outcomes = await asyncio.gather(*(store.add(m) for m in [*good[:6], bad_text, bad_form, bad_name, *good[6:]]),
                                        return_exceptions=True)
    stored_ok = [o for o in outcomes if not isinstance(o, BaseException)]
    assert [o.message.text for o in stored_ok] == [m.text for m in good]
    assert all(not o.duplicate for o in stored_ok)
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert [type(e) for e in errors] == [InvalidText, InvalidInput, InvalidText]
    assert await db["messages"].count_documents({}) == len(good)


async def test_a_retried_batch_does_not_report_its_own_messages_as_duplicates(db: Db) -> None:
    """A batch that failed half-way is written again one by one: what the first try stored is
    acknowledged as new (a customer's resend would be reported as a duplicate)."""
    first, second = _message("one", 1), _message("two", 2)
    async with MongoMessageStore(db) as store:
        await db["messages"].insert_one(message_to_doc(first))  # as if the first attempt had stored it
        outcomes = await asyncio.gather(store.add(first), store.add(second), store.add(_message("\ud83d", 3)),
                                        return_exceptions=True)
    assert [getattr(o, "duplicate", None) for o in outcomes[:2]] == [False, False]
    assert isinstance(outcomes[2], InvalidText)


async def test_widget_frame_with_a_lone_surrogate_is_refused_and_opens_nothing(hub: RunningHub, db: Db) -> None:
    async with aiohttp.ClientSession() as http:
        widget = WidgetClient(hub.base_url, http)
        await widget.connect()
        assert widget.ws is not None
        await widget.ws.send_str(LONE_SURROGATE_FRAME % "abcdefgh0001")
        error = await widget.next("error")
        assert error["code"] == "invalid_text" and "text" in error["message"]
        await widget.ws.send_str('{"type":"hello","visitor":null,"name":"\\udfff"}')
        assert (await widget.next("error"))["code"] == "invalid_text"
        assert await db["conversations"].count_documents({}) == 0, "no empty conversation was opened"
        assert (await widget.say("and now a real question"))["text"] == "and now a real question"
        assert await db["conversations"].count_documents({}) == 1


async def test_lone_surrogates_beside_real_customers_cost_them_nothing(hub: RunningHub, db: Db) -> None:
    """Four attacking sockets send nothing but lone surrogates while 20 customers talk: every
    customer message is acknowledged, no customer sees an error, no empty conversation is left."""
    customers_n, per_customer = 20, 5
    async with aiohttp.ClientSession() as http:
        attackers = [WidgetClient(hub.base_url, http) for _ in range(4)]
        for attacker in attackers:
            await attacker.connect()
        stop = asyncio.Event()
        refused = 0

        async def attack(client: WidgetClient) -> None:
            """As fast as the hub answers; a socket closed for too many frames comes back at once."""
            nonlocal refused
            while not stop.is_set():
                assert client.ws is not None
                await client.ws.send_str(LONE_SURROGATE_FRAME % uuid.uuid4().hex)
                frame = await client.next()
                assert frame["type"] == "error" and frame["code"] in ("invalid_text", "too_many_frames"), frame
                refused += 1
                if frame["code"] == "too_many_frames":
                    await client.connect()

        async def customer(n: int) -> list[str]:
            widget = WidgetClient(hub.base_url, http)
            await widget.connect()
            seen = []
            for i in range(per_customer):
                client_id = await widget.send(f"customer {n} message {i}")
                frame = await widget.next()
                while frame["type"] not in ("ack", "error"):
                    frame = await widget.next()
                seen.append("ack" if frame["type"] == "ack" and frame["client_id"] == client_id else json.dumps(frame))
            await widget.close()
            return seen

        attacking = [asyncio.create_task(attack(a)) for a in attackers]
        await eventually(lambda: refused >= 20)  # the attack is under way before the customers start
        results = await asyncio.gather(*(customer(n) for n in range(customers_n)))
        stop.set()
        await asyncio.gather(*attacking)
    assert results == [["ack"] * per_customer] * customers_n
    assert await db["messages"].count_documents({"inbound": True}) == customers_n * per_customer
    assert await db["conversations"].count_documents({}) == customers_n, "the attackers opened no conversation"


@pytest.mark.parametrize("field", ["text", "sender_name", "meta"])
async def test_service_refuses_invalid_text_before_storing_anything(hub: RunningHub, db: Db, field: str) -> None:
    values = {"text": "hello", "sender_name": "Ann", "meta": {"subject": "bill"}}
    values[field] = {"subject": "\udc80"} if field == "meta" else "bad \udc80"
    inbound = InboundMessage(channel="sms", external_id=ExternalId("kannel:1"), sender="+8613800000000",
                             received_at=datetime.now(UTC), **values)  # type: ignore[arg-type]
    with pytest.raises(InvalidText):
        await hub.context.inbox.accept_inbound(inbound)
    for collection in ("contacts", "conversations", "messages"):
        assert await db[collection].count_documents({}) == 0, collection
