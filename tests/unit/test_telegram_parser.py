"""Telegram: Bot API updates parsed into what the hub stores; errors mapped; replies cut and keyed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut

from channels.telegram.errors import send_error
from channels.telegram.parser import UpdateError, decode_update, parse_update, to_update
from channels.telegram.policy import keyboard_fits, receive_mode, split_text

UPDATES: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures" / "telegram" / "updates.json").read_text(encoding="utf-8"))
NOW = datetime(2026, 1, 1, 10, 30, tzinfo=UTC)


def parsed(name: str):  # type: ignore[no-untyped-def]
    update = to_update(UPDATES[name])
    assert update is not None
    return parse_update(update, NOW)


def test_text_message() -> None:
    p = parsed("text")
    assert p.external_id == "5100000001:17" and p.chat_id == "5100000001"
    assert p.text == "您好，我家停电了" and p.sender_name == "Mei Chen"  # noqa: RUF001 (Chinese punctuation)
    assert p.received_at == datetime.fromtimestamp(1767261600, UTC)  # dates are Unix seconds
    assert p.files == () and p.payload is None
    assert "停电" not in repr(p)


def test_photo_takes_the_largest_size_and_the_caption() -> None:
    p = parsed("photo")
    assert [f.file_id for f in p.files] == ["AgACbig"]
    assert p.files[0].content_type == "image/jpeg" and p.files[0].size == 88312
    assert p.text == "my meter"


def test_document_keeps_its_name_and_type() -> None:
    p = parsed("document")
    (ref,) = p.files
    assert (ref.filename, ref.content_type, ref.size) == ("bill-2025-12.pdf", "application/pdf", 48211)
    assert p.text == "[document: bill-2025-12.pdf]"


def test_button_press_is_the_payload_with_the_title_as_text() -> None:
    p = parsed("callback_query")
    assert p.payload == "/talk_to_human" and p.text == "Talk to an agent"
    assert p.external_id == "cb:4382912387651122001" and p.callback_query_id == "4382912387651122001"
    assert p.chat_id == "5100000001" and p.keyboard_message_id == 20 and p.received_at == NOW


@pytest.mark.parametrize("name", ["edited_message", "group_message", "my_chat_member"])
def test_edits_groups_and_other_update_types_are_ignored(name: str) -> None:
    assert parsed(name) is None


def test_unsupported_content_is_stored_as_a_marker() -> None:
    assert parsed("sticker").text == "[sticker]"


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b'"text"', b"[" * 5000 + b"]" * 5000])
def test_bodies_that_are_not_json_objects_are_refused(raw: bytes) -> None:
    with pytest.raises(UpdateError):
        decode_update(raw)


@pytest.mark.parametrize("data", [{}, {"update_id": "7"}, {"update_id": 7, "message": {"text": "no chat"}},
                                  {"update_id": 7, "message": {"message_id": 1, "chat": 5, "date": 0}}])
def test_objects_that_are_not_updates_are_none(data: dict[str, Any]) -> None:
    assert to_update(data) is None


@pytest.mark.parametrize(("err", "retryable"), [
    (RetryAfter(7), True), (TimedOut(), True), (NetworkError("Bad Gateway"), True),
    (BadRequest("Bad Request: chat not found"), False), (Forbidden("Forbidden: bot was blocked by the user"), False),
    (InvalidToken("Unauthorized"), False),
])
def test_bot_api_errors_map_to_retry_or_fail(err: Exception, retryable: bool) -> None:
    mapped = send_error(err)  # type: ignore[arg-type]
    assert mapped.retryable is retryable
    if isinstance(err, RetryAfter):
        assert mapped.retry_after_s == 7


def test_error_messages_carry_no_chat_ids() -> None:
    assert "5100000001" not in str(send_error(BadRequest("Bad Request: chat 5100000001 not found")))


def test_receive_mode() -> None:
    assert receive_mode("auto", "https://hub.example.org", True) == "webhook"
    assert receive_mode("auto", "https://hub.example.org", False) == "polling"
    assert receive_mode("auto", None, True) == "polling"
    assert receive_mode("polling", "https://hub.example.org", True) == "polling"
    with pytest.raises(ValueError, match="webhook"):
        receive_mode("webhook", None, True)


def test_long_replies_are_cut_within_the_limit_and_nothing_is_lost() -> None:
    text = ("电力 " * 3000).strip()
    chunks = split_text(text, limit=4096)
    assert len(chunks) == 3 and all(len(c.encode("utf-16-le")) // 2 <= 4096 for c in chunks)
    assert " ".join(chunks).split() == text.split()
    assert split_text("short") == ["short"]
    emoji = split_text("⚡" * 5000 + "🔌" * 3000)  # the plug is outside the BMP: two UTF-16 units
    assert all(len(c.encode("utf-16-le")) // 2 <= 4096 for c in emoji) and "".join(emoji).count("🔌") == 3000


def test_callback_data_must_fit_64_bytes() -> None:
    assert keyboard_fits([{"title": "Pay", "payload": "/pay_bill"}])
    assert not keyboard_fits([{"title": "Pay", "payload": "/" + "x" * 64}])
