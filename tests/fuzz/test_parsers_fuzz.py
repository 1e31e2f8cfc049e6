"""Every inbound parser, fuzzed: it returns a typed value whose every string is valid Unicode, or it
raises its documented error, never anything else (pure; many examples; no I/O)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import BaseModel

from channels.email.parser import MalformedEmail, parse_email
from channels.sms.parser import DeliveryReport, SmsInputError, parse_dlr, parse_mo, query_fields
from channels.telegram.parser import ParsedUpdate, UpdateError, decode_update, parse_update, to_update
from channels.webchat.parser import CustomerText, FrameError, Hello, Receipt, Typing, parse_frame
from console.api import LoginBody, MessageBody, parse_body
from console.teams_api import StatusBody
from hub.domain.model import InboundMessage
from hub.domain.text import is_valid_unicode
from tests.fuzz.profile import fuzz
from tests.fuzz.strategies import (
    console_bodies,
    document,
    emails,
    hostile_text,
    replies,
    sms_queries,
    strings_in,
    telegram_bodies,
    widget_frames,
)

NOW = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
SECRET = "fuzz-secret-0123456789"
FRAME_CODES = {"bad_json", "bad_frame", "invalid_text", "too_long"}


def all_valid(value: Any) -> bool:
    return all(is_valid_unicode(text) for text in strings_in(value))


@fuzz(600)
@given(document(widget_frames()))
@example('{"type":"hello","visitor":null,"name":"\\udfff"}')
@example('{"type":"typing","x":' + "[" * 990 + "]" * 990 + "}")
def test_widget_frames(raw: str) -> None:
    try:
        frame = parse_frame(raw, max_text_chars=4000)
    except FrameError as err:
        assert err.code in FRAME_CODES and str(err)
        return
    assert isinstance(frame, Hello | CustomerText | Typing | Receipt)
    assert all_valid(frame)
    if isinstance(frame, CustomerText):
        assert frame.text.strip() and len(frame.text) <= 4000


@fuzz(1500)
@given(sms_queries(SECRET), st.booleans())
# Found by this test: charsets whose decoder raises UnicodeError itself, not UnicodeDecodeError (a 500).
@example(f"secret={SECRET}&from=%2B8613800138000&text=abc&coding=0&charset=undefined&id=abc", True)
@example(f"secret={SECRET}&from=%2B8613800138000&text=xn--abc-&coding=0&charset=idna&id=abc", True)
@example(f"secret={SECRET}&from=%2B8613800138000&text=%5Cud800&coding=0&charset=punycode&id=abc", True)
def test_kannel_callbacks(raw: str, mo: bool) -> None:
    try:
        fields = query_fields(raw, max_bytes=7000)
        parsed: InboundMessage | DeliveryReport = (
            parse_mo(fields, received_at=NOW, max_text_chars=2000) if mo else parse_dlr(fields))
    except SmsInputError as err:
        assert err.status in {400, 413} and err.reason
        return
    assert all_valid(parsed)
    if isinstance(parsed, InboundMessage):
        assert "\x00" not in parsed.text and len(parsed.text) <= 2000 and parsed.sender


@fuzz(1000)
@given(emails())
@example(b"From: a@example.test\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--c\r\n\r\nx\r\n")
@example(b"From: zh\xffang@example.test\r\nSubject: \xff\xfe =?utf-7?q?+2AA-?=\r\n\r\nhello +2AA-\r\n")
def test_emails(raw: bytes) -> None:
    try:
        inbound = parse_email(raw, mailbox="support@hub.test", received_at=NOW)
    except MalformedEmail as err:
        assert str(err)
        return
    if inbound is not None:
        assert isinstance(inbound, InboundMessage) and all_valid(inbound)
        assert inbound.text and inbound.sender and inbound.external_id


@fuzz(400)
@given(telegram_bodies())
# Found by this test: fields of the wrong type (PTB checks none) and a deep reply_to_message chain
# raised TypeError or RecursionError out of the parser, and the webhook answered 500/503.
@example(b'{"update_id":7,"message":{"message_id":1,"date":1,"chat":{"id":5,"type":"private"},'
         b'"from":{"id":5,"is_bot":false,"first_name":"Li"},"text":42}}')
@example(b'{"update_id":7,"message":{"message_id":1,"date":1,"chat":{"id":5,"type":"private"},'
         b'"from":{"id":5,"is_bot":false,"first_name":5},"text":"hi"}}')
@example(b'{"update_id":7,"message":{"message_id":1,"date":1,"chat":{"id":5,"type":"private"},'
         b'"from":{"id":5,"is_bot":false,"first_name":"Li"},"document":{"file_id":1,"file_unique_id":2}}}')
@example(json.dumps({"update_id": 1, "message": replies(600)}).encode())
def test_telegram_updates(raw: bytes) -> None:
    try:
        data = decode_update(raw)
    except UpdateError:
        return
    update = to_update(data)
    if update is None:
        return
    parsed = parse_update(update, NOW)
    if parsed is not None:
        assert isinstance(parsed, ParsedUpdate) and all_valid(parsed)
        assert parsed.text and parsed.chat_id.lstrip("-").isdigit()
        assert all(isinstance(f.file_id, str) and (f.size is None or isinstance(f.size, int)) for f in parsed.files)


@pytest.mark.parametrize(("model", "fields"), [
    (LoginBody, {"username": hostile_text(), "password": hostile_text()}),
    (StatusBody, {"status": st.sampled_from(["available", "away", "offline", "busy", "paused"]),
                  "reason": hostile_text()}),
    (MessageBody, {"text": hostile_text(), "private": st.booleans()}),
], ids=["login", "status", "message"])
@fuzz(120)
@given(data=st.data())
def test_console_bodies(model: type[BaseModel], fields: dict[str, st.SearchStrategy[Any]], data: st.DataObject) -> None:
    raw = data.draw(console_bodies(fields))
    try:
        parsed = parse_body(raw, model)
    except web.HTTPException as err:
        assert err.status == 400
        assert json.loads(err.text or "")["error"]["code"] in {"bad_json", "invalid_text", "invalid_input"}
        return
    assert isinstance(parsed, model) and all_valid(parsed.model_dump())
