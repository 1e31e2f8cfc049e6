"""Every inbound parser refuses or repairs text that is not valid Unicode (lone surrogates)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from channels.email.parser import parse_email
from channels.sms.parser import SmsInputError, parse_mo, query_fields
from channels.telegram.parser import UpdateError, decode_update, parse_update, to_update
from channels.webchat.parser import FrameError, parse_frame
from hub.domain.text import invalid_text_path, is_valid_unicode, json_may_hold_surrogates, repair, require_valid_text
from hub.errors import InvalidText

NOW = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def test_the_rule_and_its_path_finder() -> None:
    assert is_valid_unicode("查询电费 😀 \u0000 \uffff")
    assert not is_valid_unicode("x \ud800") and not is_valid_unicode("\udfff")
    assert invalid_text_path({"a": [1, {"b": "ok"}, {"c": "\udc80"}]}) == "a[2].c"
    assert invalid_text_path({"\ud800": 1}) == "(key)"
    assert invalid_text_path("\ud800") == "(root)" and invalid_text_path({"a": ["ok", 3, None]}) is None
    assert repair("a\ud800b\udfffc") == "a\ufffdb\ufffdc"
    with pytest.raises(InvalidText, match=r"message\.meta\.subject") as refused:
        require_valid_text("message", {"meta": {"subject": "bill \udc80"}})
    assert "bill" not in str(refused.value), "the error never quotes the text"


@pytest.mark.parametrize("frame", [
    '{"type":"message","client_id":"abcdefgh1234","text":"x \\ud800 y"}',
    '{"type":"message","client_id":"abcdefgh1234","text":"ok","payload":"\\udfff"}',
    '{"type":"hello","visitor":{"id":"\\ud83d","token":"t"}}',
    '{"type":"typing","active":true,"\\ud800":1}',
])
def test_widget_frames_with_lone_surrogates_are_refused(frame: str) -> None:
    with pytest.raises(FrameError) as refused:
        parse_frame(frame, max_text_chars=4000)
    assert refused.value.code == "invalid_text"


def test_a_surrogate_pair_escape_is_valid_text() -> None:
    frame = parse_frame('{"type":"message","client_id":"abcdefgh1234","text":"\\ud83d\\ude00"}', max_text_chars=10)
    assert frame.text == "😀"  # type: ignore[union-attr]


def test_sms_in_a_charset_that_decodes_to_a_lone_surrogate_is_refused() -> None:
    query = "from=%2B8613800138000&to=10086&text=%2B2AA-&coding=0&charset=UTF-7&id=abc-1"
    with pytest.raises(SmsInputError, match="not valid Unicode"):
        parse_mo(query_fields(query, max_bytes=8000), received_at=NOW, max_text_chars=2000)


def test_email_with_undeclared_8bit_headers_and_a_utf7_body_is_kept_repaired() -> None:
    raw = (b"From: =?utf-8?q?Zhang?= \xe5\xbc\xa0\xff <zhang@example.test>\r\n"
           b"To: support@hub.test\r\nSubject: bill \xff\xfe question\r\nMessage-ID: <q1@example.test>\r\n"
           b"Content-Type: text/plain; charset=utf-7\r\n\r\nhello +2AA- there\r\n")
    inbound = parse_email(raw, mailbox="support@hub.test", received_at=NOW)
    assert inbound is not None
    texts = [inbound.text, inbound.sender_name or "", *inbound.meta.values()]
    assert all(is_valid_unicode(t) for t in texts)
    assert "hello \ufffd there" in inbound.text and "bill" in inbound.meta["subject"]


def test_email_sender_address_with_8bit_bytes_never_carries_a_surrogate() -> None:
    raw = (b"From: zh\xffang@example.test\r\nTo: support@hub.test\r\nSubject: hi\r\n"
           b"Message-ID: <q2@example.test>\r\n\r\nhello\r\n")
    inbound = parse_email(raw, mailbox="support@hub.test", received_at=NOW)
    assert inbound is not None and is_valid_unicode(inbound.sender)


UPDATE = {"update_id": 7, "message": {"message_id": 17, "date": 1767261000, "text": "hi \ud800",
                                      "chat": {"id": 5100000001, "type": "private"},
                                      "from": {"id": 5100000001, "is_bot": False, "first_name": "Li \udfff"}}}


def test_telegram_webhook_body_with_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(UpdateError, match="not valid Unicode"):
        decode_update(json.dumps(UPDATE).encode())


def test_telegram_polled_update_with_a_lone_surrogate_is_repaired_not_lost() -> None:
    update = to_update(json.loads(json.dumps(UPDATE)))
    assert update is not None
    parsed = parse_update(update, NOW)
    assert parsed is not None
    assert parsed.text == "hi \ufffd" and parsed.sender_name == "Li \ufffd"


def test_only_a_text_that_may_decode_to_a_surrogate_is_walked(monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk builds a path per key and list item; a frame that holds no surrogate and spells
    none with an escape (nearly all of them) is not walked (ADR 0069)."""
    assert not json_may_hold_surrogates('{"type":"read","message_ids":["m1","m2"],"t":"é 😀 \\u00e9 \\\\"}')
    for raw in ('"\\ud800"', '"\\uDFFF"', '"\\udBad"', '"\\ud83d\\ude00"', '"x\ud800"'):
        assert json_may_hold_surrogates(raw), raw
    walked: list[object] = []

    def counting(value: object, path: str = "") -> str | None:
        walked.append(value)
        return invalid_text_path(value, path)

    monkeypatch.setattr("channels.webchat.parser.invalid_text_path", counting)
    receipt = json.dumps({"type": "read", "message_ids": [f"m{i}" for i in range(200)]})
    assert parse_frame(receipt, max_text_chars=4000)
    assert walked == []
    with pytest.raises(FrameError):
        parse_frame('{"type":"message","client_id":"abcdefgh1234","text":"x \\ud800"}', max_text_chars=4000)
    assert len(walked) == 1


@pytest.mark.parametrize("value", [
    {"a": [1, {"b": "ok"}, ("x", {"c": "\udc80"})]}, {"a": {"\ud800": 1}}, ["ok", "\udfff"], "ok", {"a": None},
])
def test_the_quick_check_and_the_path_finder_agree(value: object) -> None:
    found = invalid_text_path(value)
    assert (found is None) == (not any(not is_valid_unicode(s) for s in _strings(value)))


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [*_strings(k), *_strings(v)]]
    if isinstance(value, list | tuple):
        return [s for item in value for s in _strings(item)]
    return []
