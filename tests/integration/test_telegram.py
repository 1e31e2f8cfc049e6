"""Telegram end to end through the real hub and our Bot API stand-in (python-telegram-bot on both ends
of the wire: PTB in the hub, the Bot API's documented payloads in the stand-in)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.config import BotSettings
from hub.storage.database import Db
from tests.clients import AgentClient
from tests.conftest import eventually, make_settings
from tests.contract.harness_telegram import WEBHOOK_SECRET, telegram_settings, wait_until_receiving
from tests.standins.telegram_bot_api import BotApiStandIn, TgUser

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40 + b"\xff\xd9"


@pytest.fixture
async def standin() -> AsyncIterator[BotApiStandIn]:
    async with BotApiStandIn() as running:
        yield running


async def start_hub(standin: BotApiStandIn, db_name: str, mongo_url: str, redis_url: str,
                    rasa_url: str | None = None, **telegram: Any) -> Any:
    settings = telegram_settings(make_settings(db_name), standin, **telegram)
    if rasa_url:
        settings = settings.model_copy(update={"bot": BotSettings(rasa_url=rasa_url, timeout_s=10.0)})
    return running_hub(settings, mongo_url=mongo_url, redis_url=redis_url)


@pytest.fixture
async def tg_hub(standin: BotApiStandIn, db_name: str, mongo_url: str, redis_url: str,
                 redis: Redis) -> AsyncIterator[RunningHub]:
    async with await start_hub(standin, db_name, mongo_url, redis_url, max_attachment_bytes=64 * 1024) as hub:
        await load_demo(hub.context.directory)
        await wait_until_receiving(standin)
        yield hub


@pytest.fixture
async def agent(tg_hub: RunningHub) -> AsyncIterator[AgentClient]:
    alice = await AgentClient.online(tg_hub.base_url, "alice")
    yield alice
    await alice.close()


async def inbound_of(hub: RunningHub, user: TgUser) -> list[Any]:
    docs = hub.context.messages  # the stored timeline of the user's conversation
    message = await docs.find_inbound("telegram", f"{user.id}:1")
    return [] if message is None else await docs.timeline(message.conversation_id, include_private=True)


async def texts_to(standin: BotApiStandIn, user: TgUser, count: int = 1, within_s: float = 15) -> list[str]:
    await eventually(lambda: len(standin.sent_to(user)) >= count, timeout=within_s)
    return [m["text"] for m in standin.sent_to(user)]


# -- the bot, the handover and the agent --------------------------------------------------------------
async def test_telegram_user_talks_to_the_bot_presses_a_button_is_handed_over_and_gets_the_agents_reply(
        standin: BotApiStandIn, db_name: str, mongo_url: str, redis_url: str, redis: Redis, rasa_url: str) -> None:
    async with await start_hub(standin, db_name, mongo_url, redis_url, rasa_url=rasa_url) as hub:
        await load_demo(hub.context.directory)
        await wait_until_receiving(standin)
        alice = await AgentClient.online(hub.base_url, "alice")
        try:
            user = standin.user("Mei", "Chen")
            await standin.send_text(user, "hello")
            await texts_to(standin, user, 1)
            greeting = standin.sent_to(user)[0]
            keyboard = greeting["reply_markup"]["inline_keyboard"]  # quick replies as an inline keyboard
            buttons = [button for row in keyboard for button in row]
            assert {"text": "Talk to an agent", "callback_data": "/talk_to_human"} in buttons

            await standin.press_button(user, greeting["message_id"], "/talk_to_human")
            offer = await alice.next("offer", timeout=20)
            handover = offer["conversation"]["handover"]
            assert handover["intent"] == "talk_to_human"  # the button's payload went to the bot, not its title
            await eventually(lambda: standin.answered)  # answerCallbackQuery: the spinner stops
            await eventually(lambda: "reply_markup" not in standin.sent_to(user)[0])  # chosen once
            cid = offer["conversation"]["id"]
            stored = await hub.context.messages.timeline(cid, include_private=True)
            assert [m.text for m in stored if m.author.value == "customer"] == ["hello", "Talk to an agent"]

            await alice.call("POST", f"/api/conversations/{cid}/accept")
            reply = await alice.reply(cid, "Hi Mei, Alice here. How can I help?")
            texts = await texts_to(standin, user, 2)
            assert texts[-1] == "Hi Mei, Alice here. How can I help?"
            await eventually(lambda: _status(hub, reply["id"], "sent"))
        finally:
            await alice.close()


async def test_asking_for_a_human_in_words_hands_over(
        standin: BotApiStandIn, db_name: str, mongo_url: str, redis_url: str, redis: Redis, rasa_url: str) -> None:
    async with await start_hub(standin, db_name, mongo_url, redis_url, rasa_url=rasa_url) as hub:
        await load_demo(hub.context.directory)
        await wait_until_receiving(standin)
        alice = await AgentClient.online(hub.base_url, "alice")
        try:
            user = standin.user("Tom", "Lee")
            await standin.send_text(user, "how do I pay my bill")
            await texts_to(standin, user, 1)  # the bot answered on Telegram
            await standin.send_text(user, "I want to talk to a human agent please")
            cid = await alice.take_offer(timeout=20)
            await alice.reply(cid, "Alice here, happy to help with the payment.")
            assert (await texts_to(standin, user, 2))[-1] == "Alice here, happy to help with the payment."
        finally:
            await alice.close()


# -- files ------------------------------------------------------------------------------------------
async def test_a_photo_arrives_as_a_stored_attachment_in_its_largest_size(
        tg_hub: RunningHub, standin: BotApiStandIn) -> None:
    user = standin.user()
    await standin.send_photo(user, [(90, 67, b"thumbnail"), (1280, 960, JPEG)], caption="my meter")
    timeline = await eventually(lambda: inbound_of(tg_hub, user))
    (message,) = timeline
    assert message.text == "my meter" and message.address == str(user.id)
    (ref,) = message.attachments
    assert ref.content_type == "image/jpeg" and ref.size == len(JPEG)
    stored = await tg_hub.context.attachments.file(ref.id)
    assert stored is not None and stored.data == JPEG


async def test_a_document_over_the_limit_is_not_downloaded_but_the_message_is_kept(
        tg_hub: RunningHub, standin: BotApiStandIn) -> None:
    user = standin.user()
    await standin.send_document(user, b"%PDF-1.7 " + b"0" * (70 * 1024), "bill.pdf", "application/pdf")
    (message,) = await eventually(lambda: inbound_of(tg_hub, user))
    assert message.attachments == () and "not stored" in message.text
    assert not any(m == "getFile" for m, _ in standin.calls)  # refused on the announced size already


# -- sending: errors and retries --------------------------------------------------------------------
async def conversation_with(agent: AgentClient, standin: BotApiStandIn, user: TgUser) -> str:
    await standin.send_text(user, "my bill doubled")
    return await agent.take_offer(timeout=15)


async def test_flood_control_429_is_retried_after_retry_after_and_goes_out(
        tg_hub: RunningHub, standin: BotApiStandIn, agent: AgentClient) -> None:
    user = standin.user()
    cid = await conversation_with(agent, standin, user)
    standin.fail_next("sendMessage", "429", retry_after=4)
    reply = await agent.reply(cid, "Let me check your tariff.")
    assert (await texts_to(standin, user, 1, within_s=20)) == ["Let me check your tariff."]
    attempts = [t for m, t in standin.calls if m == "sendMessage"]
    assert len(attempts) == 2 and attempts[1] - attempts[0] >= 3.9  # not the outbox's own 2 s
    stored = await eventually(lambda: _status(tg_hub, reply["id"], "sent"))
    assert stored


async def test_a_server_error_is_retried(tg_hub: RunningHub, standin: BotApiStandIn, agent: AgentClient) -> None:
    user = standin.user()
    cid = await conversation_with(agent, standin, user)
    standin.fail_next("sendMessage", "502")
    await agent.reply(cid, "One moment please.")
    assert (await texts_to(standin, user, 1, within_s=20)) == ["One moment please."]


async def test_a_user_who_blocked_the_bot_fails_the_message_for_good(
        tg_hub: RunningHub, standin: BotApiStandIn, agent: AgentClient) -> None:
    user = standin.user()
    cid = await conversation_with(agent, standin, user)
    standin.block(user)
    reply = await agent.reply(cid, "Are you still there?")
    await eventually(lambda: _status(tg_hub, reply["id"], "failed"))
    assert [m for m, _ in standin.calls].count("sendMessage") == 1  # not retried
    assert standin.sent_to(user) == []


async def _status(hub: RunningHub, message_id: str, status: str) -> bool:
    message = await hub.context.messages.get(message_id)
    return message is not None and message.status.value == status


# -- the webhook under bad input ----------------------------------------------------------------------
@pytest.mark.parametrize(("headers", "body", "status"), [
    ({}, b'{"update_id": 1}', 403),
    ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, b'{"update_id": 1}', 403),
    ({"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET[:-1]}, b'{"update_id": 1}', 403),
    ({"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}, b"{not json", 400),
    ({"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}, b"[" * 100_000 + b"]" * 100_000, 400),
    ({"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}, b"\xff\xfe\x00garbage", 400),
    ({"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}, b'{"update_id": 1, "message": "x' + b"y" * 1_100_000
     + b'"}', 413),
    ({"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}, b'{"update_id": "1", "message": {}}', 200),
    ({"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}, b'{"update_id": 2, "message": {"chat": 1}}', 200),
])
async def test_bad_webhook_requests_are_refused_nothing_is_stored_and_it_keeps_serving(
        tg_hub: RunningHub, standin: BotApiStandIn, db: Db, headers: dict[str, str], body: bytes,
        status: int) -> None:
    url = f"{tg_hub.base_url}/channels/telegram/webhook"
    async with aiohttp.ClientSession() as http:
        json_headers = {"Content-Type": "application/json", **headers}
        async with http.post(url, data=io.BytesIO(body), headers=json_headers) as response:
            assert response.status == status
        async with http.post(url, data=b"x" * 5000, headers={"Transfer-Encoding": "chunked", **headers}) as response:
            assert response.status in {400, 403}
    assert await db["messages"].count_documents({"channel": "telegram"}) == 0
    user = standin.user()
    await standin.send_text(user, "still there?")
    assert [m.text for m in await eventually(lambda: inbound_of(tg_hub, user))] == ["still there?"]


async def test_a_redelivered_update_is_stored_once_and_an_edit_is_ignored(
        tg_hub: RunningHub, standin: BotApiStandIn) -> None:
    user = standin.user()
    update = await standin.send_text(user, "meter 04512")
    await eventually(lambda: inbound_of(tg_hub, user))
    await standin.redeliver(update)
    await standin.edit_text(user, 1, "meter 04513")
    await eventually(lambda: len(standin.webhook_deliveries) >= 3)
    assert [m.text for m in await inbound_of(tg_hub, user)] == ["meter 04512"]


# -- polling mode -----------------------------------------------------------------------------------
async def test_polling_mode_receives_without_a_webhook(
        standin: BotApiStandIn, db_name: str, mongo_url: str, redis_url: str, redis: Redis) -> None:
    async with await start_hub(standin, db_name, mongo_url, redis_url, mode="polling", poll_timeout_s=1) as hub:
        await wait_until_receiving(standin, "polling")
        assert standin.webhook.url == ""
        user = standin.user()
        await standin.send_text(user, "polled hello")
        assert [m.text for m in await eventually(lambda: inbound_of(hub, user))] == ["polled hello"]
        await eventually(lambda: standin.pending_update_count() == 0 or _confirmed(standin))
        async with aiohttp.ClientSession() as http, http.get(hub.base_url + "/readyz") as resp:
            loops = (await resp.json())["loops"]
        by_name = {loop["name"]: loop for loop in loops}  # other loops (leases such as work orders') may run too
        for name in ("hub:bus", "channels:telegram:polling", "routing:assigner"):
            assert by_name.get(name) == {"name": name, "state": "running", "attempt": 0, "last_error": None,
                                         "restarts": 0}, loops
        assert all(loop["state"] == "running" for loop in loops), loops


def _confirmed(standin: BotApiStandIn) -> bool:
    return sum(1 for m, _ in standin.calls if m == "getUpdates") >= 2
