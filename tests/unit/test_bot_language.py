"""Which language the bot answers a message in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.service import customer_language, reply_language
from hub.domain.ids import Author, ConversationId, DeliveryStatus, MessageId
from hub.domain.model import Message


@pytest.mark.parametrize(("text", "language"), [
    ("我家停电了", "zh"),
    ("户号3100123456查电费", "zh"),
    ("my bill 账单", "zh"),
    ("how do I pay my bill", "en"),
    ("3100123456", None),  # an account number alone keeps the conversation's language
    ("👍", None),
    ("", None),
])
def test_reply_language(text: str, language: str | None) -> None:
    assert reply_language(text) == language


def _message(author: str, text: str) -> Message:
    return Message(id=MessageId("m"), conversation_id=ConversationId("c"), channel="sms", author=Author(author),
                   author_id=None, author_name="", text=text, sent_at=datetime.now(UTC), status=DeliveryStatus.SENT)


def test_the_handover_names_the_language_the_customer_writes_in() -> None:
    chinese_then_a_choice = [_message("customer", "你好"), _message("bot", "Hello! 1. Check my bill"),
                             _message("customer", "4")]
    assert customer_language(chinese_then_a_choice) == "zh", "a bare number keeps the language"
    assert customer_language([_message("customer", "你好"), _message("customer", "my bill please")]) == "en"
    assert customer_language([_message("bot", "您好"), _message("customer", "12345")]) is None
