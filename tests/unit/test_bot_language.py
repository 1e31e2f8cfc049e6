"""Which language the bot answers a message in."""

from __future__ import annotations

import pytest

from bot.service import reply_language


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
