"""The bot on a channel without buttons, against the real Rasa: a Chinese SMS gets the Chinese
greeting with its quick replies (the SMS adapter numbers them), and answering "4" is pressing the
fourth button: the customer is handed over to a human with the bot's context.

The SMS sender here is a scripted one (tests/integration/test_outbox.py); Kannel's own path is
proved in test_sms_kannel.py and the channel contract."""

from __future__ import annotations

from datetime import UTC, datetime

from redis.asyncio import Redis

from hub.admin import load_demo
from hub.bootstrap import running_hub
from hub.config import BotSettings
from hub.domain.ids import ExternalId
from hub.domain.model import InboundMessage
from hub.domain.outbound import numbered_text
from tests.conftest import eventually
from tests.integration.test_outbox import ScriptedSender, settings_for

PHONE = "+8613800138123"


def sms(text: str, external_id: str) -> InboundMessage:
    return InboundMessage(channel="sms", external_id=ExternalId(external_id), sender=PHONE, text=text,
                          received_at=datetime.now(UTC))


async def test_sms_customer_chooses_a_numbered_quick_reply_and_reaches_a_human(
        mongo_url: str, redis_url: str, redis: Redis, db_name: str, rasa_url: str) -> None:
    settings = settings_for(db_name).model_copy(update={"bot": BotSettings(rasa_url=rasa_url, timeout_s=10.0)})
    sender = ScriptedSender("sms")
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url,
                           channel_senders={"sms": sender}) as hub:
        await load_demo(hub.context.directory)
        service = hub.context.inbox
        first = await service.accept_inbound(sms("你好", "k-greet"))
        assert first.conversation.state.value == "bot"
        await eventually(lambda: sender.sent, timeout=15)
        greeting = sender.sent[0]
        assert greeting.address == PHONE and greeting.author_name == "Northgrid assistant"
        assert "您好" in greeting.text, "a Chinese customer gets the Chinese variation"
        titles = [b["title"] for b in greeting.buttons]
        assert titles[3] == "转人工客服"
        assert "4. 转人工客服" in numbered_text(greeting.text, greeting.buttons)  # what Kannel sends

        await service.accept_inbound(sms("4", "k-choice"))
        conversation = await eventually(lambda: _queued(hub, first.conversation.id), timeout=15)
        handover = conversation["handover"]
        assert handover["reason"] == "asked" and handover["intent"] == "talk_to_human"
        assert handover["channel"] == "sms" and handover["language"] == "zh"
        assert len(sender.sent) == 1, "the bot said nothing more once it handed over"


async def _queued(hub, conversation_id: str):  # type: ignore[no-untyped-def]
    doc = await hub.context.conversations.get_doc(conversation_id)
    return doc if doc["state"] == "queued" else None
