"""Pure e-mail parsing and composing: encodings, HTML, quote folding, broken MIME, threading headers."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from channels.email.composer import InvalidAddress, compose, reply_subject
from channels.email.parser import MalformedEmail, parse_email
from channels.email.text import fold, html_to_text
from hub.domain.ids import ConversationId, MessageId
from hub.domain.outbound import Outbound

NOW = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
CHINESE = "我家停电了，请尽快派人来修理。"  # noqa: RUF001 (Chinese punctuation)


def mail(body: str = "hello", *, cte: str | None = None, subtype: str = "plain", **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = headers.pop("From", "Zhang Wei <zhang@example.test>")
    message["To"] = "support@hub.test"
    message["Subject"] = headers.pop("Subject", "Question")
    message["Message-ID"] = headers.pop("Message_ID", "<q1@example.test>")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body, subtype=subtype, cte=cte)
    return message


def parse(raw: bytes) -> object:
    return parse_email(raw, mailbox="support@hub.test", received_at=NOW)


@pytest.mark.parametrize("cte", ["quoted-printable", "base64", "8bit"])
def test_chinese_subject_and_body_in_every_transfer_encoding(cte: str) -> None:
    raw = mail(CHINESE, cte=cte, Subject="停电报修").as_bytes()
    assert b"\xe6" not in raw.split(b"\n\n", 1)[0]  # the subject is encoded in the header (RFC 2047)
    inbound = parse_email(raw, mailbox="support@hub.test", received_at=NOW)
    assert inbound is not None
    assert inbound.text == CHINESE and inbound.meta["subject"] == "停电报修"
    assert inbound.external_id == "<q1@example.test>" and inbound.sender == "zhang@example.test"
    assert inbound.sender_name == "Zhang Wei" and inbound.channel == "email"


def test_gb2312_encoded_message() -> None:
    name = base64.b64encode("李娜".encode("gb2312")).decode()
    raw = ("From: =?gb2312?b?" + name + "?= <li@example.test>\r\n"
           "Subject: =?gb2312?q?=B5=E7=B7=D1?=\r\nMessage-ID: <gb@example.test>\r\nMIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           + base64.b64encode(CHINESE.encode("gb2312")).decode() + "\r\n").encode()
    inbound = parse_email(raw, mailbox="support@hub.test", received_at=NOW)
    assert inbound is not None and inbound.text == CHINESE
    assert inbound.meta["subject"] == "电费" and inbound.sender_name == "李娜"


def test_plain_text_is_preferred_over_html() -> None:
    message = mail("plain version")
    message.add_alternative("<p>html <b>version</b></p>", subtype="html")
    inbound = parse_email(message.as_bytes(), mailbox="support@hub.test", received_at=NOW)
    assert inbound is not None and inbound.text == "plain version"


def test_html_only_is_sanitised_to_text() -> None:
    html = ("<html><head><style>p {color:red}</style><script>steal()</script></head><body>"
            "<p>My meter <b>stopped</b> &amp; shows E3</p><img src=x onerror=alert(1)><div>Flat 4</div>"
            "<blockquote><p>Earlier answer from you</p></blockquote></body></html>")
    inbound = parse_email(mail(html, subtype="html").as_bytes(), mailbox="support@hub.test", received_at=NOW)
    assert inbound is not None
    assert inbound.text == "My meter stopped & shows E3\n\nFlat 4"
    assert "steal" not in inbound.text and "onerror" not in inbound.text and "color" not in inbound.text
    assert inbound.meta["quoted"] == "> Earlier answer from you"


def test_html_to_text_drops_active_content() -> None:
    assert html_to_text('<a href="javascript:x()">link</a><iframe src=//evil>in</iframe><svg onload=x>s</svg>') \
        == "linkins"


@pytest.mark.parametrize(("body", "new", "quoted_start"), [
    ("Thanks, fixed.\n\nOn Mon, 5 Jan 2026, Northgrid <support@hub.test> wrote:\n> Try again", "Thanks, fixed.",
     "On Mon"),
    ("好的，谢谢\n\n在 2026年1月5日，客服 写道：\n> 请重启电表", "好的，谢谢", "在 2026"),  # noqa: RUF001
    ("See below\n\n-----Original Message-----\nFrom: Support\nSent: Monday\n\nold", "See below", "-----Original"),
    ("Outlook reply\n\nFrom: Support <support@hub.test>\nSent: Monday\nSubject: Re: x\n\nold", "Outlook reply",
     "From: Support"),
    ("Short answer\n-- \nJohn Smith\n+1 555 0100", "Short answer", "-- "),
    ("Yes please\n\nSent from my iPhone", "Yes please", "Sent from my iPhone"),
    ("> your question?\nmy answer\n> another?\nsecond answer", "my answer\nsecond answer", "> your question?"),
    ("no quotes at all\nsecond line", "no quotes at all\nsecond line", ""),
])
def test_quoted_history_and_signature_are_folded(body: str, new: str, quoted_start: str) -> None:
    folded = fold(body)
    assert folded.text == new
    assert folded.quoted.startswith(quoted_start)


def test_attachments_are_extracted_with_safe_names() -> None:
    message = mail("see attached")
    message.add_attachment(b"%PDF-1.4 data", maintype="application", subtype="pdf", filename="../../etc/账单.pdf")
    message.add_attachment(b"\x89PNG data", maintype="image", subtype="png", filename="C:\\Users\\x\\meter.png")
    inbound = parse_email(message.as_bytes(), mailbox="support@hub.test", received_at=NOW)
    assert inbound is not None and inbound.text == "see attached"
    assert [(a.filename, a.content_type, a.data) for a in inbound.attachments] == [
        ("账单.pdf", "application/pdf", b"%PDF-1.4 data"), ("meter.png", "image/png", b"\x89PNG data")]


def test_attachment_only_message_gets_its_subject_as_text() -> None:
    message = EmailMessage()
    message["From"], message["Subject"], message["Message-ID"] = "a@example.test", "Meter photo", "<p@example.test>"
    message.add_attachment(b"jpeg", maintype="image", subtype="jpeg", filename="m.jpg")
    inbound = parse_email(message.as_bytes(), mailbox="support@hub.test", received_at=NOW)
    assert inbound is not None and inbound.text == "Meter photo" and len(inbound.attachments) == 1


def test_threading_headers_go_to_meta() -> None:
    raw = mail("answer", In_Reply_To="<m_1@hub.test>", References="<q0@example.test> <m_1@hub.test>").as_bytes()
    inbound = parse_email(raw, mailbox="support@hub.test", received_at=NOW)
    assert inbound is not None
    assert inbound.meta["in_reply_to"] == "<m_1@hub.test>"
    assert inbound.meta["mail_references"] == "<q0@example.test> <m_1@hub.test>"
    assert inbound.meta["mailbox"] == "support@hub.test"


def test_missing_message_id_gets_a_stable_one() -> None:
    message = mail("x")
    del message["Message-ID"]
    first = parse_email(message.as_bytes(), mailbox="support@hub.test", received_at=NOW)
    second = parse_email(message.as_bytes(), mailbox="support@hub.test", received_at=NOW)
    assert first is not None and second is not None and first.external_id == second.external_id


@pytest.mark.parametrize("headers", [{"Auto_Submitted": "auto-replied"}, {"Precedence": "bulk"},
                                     {"Return_Path": "<>"}])
def test_automatic_mail_is_ignored(headers: dict[str, str]) -> None:
    assert parse(mail("I am out of office", **headers).as_bytes()) is None


@pytest.mark.parametrize("raw", [
    b"",
    b"   \r\n",
    b"Subject: no sender\r\n\r\nhello",
    b"From: not an address\r\n\r\nhello",
    b"From: a@example.test\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
    b"the boundary never starts\r\n",
    b"From: a@example.test\r\n\r\n",
])
def test_broken_mime_is_a_clear_error(raw: bytes) -> None:
    with pytest.raises(MalformedEmail) as raised:
        parse(raw)
    assert "example.test" not in str(raised.value)  # no addresses in the reason (it is logged)


def test_unknown_charset_is_read_as_utf8() -> None:
    raw = ("From: a@example.test\r\nMessage-ID: <u@x>\r\nContent-Type: text/plain; charset=x-nonsense\r\n"
           "Content-Transfer-Encoding: 8bit\r\n\r\n" + CHINESE).encode()
    inbound = parse(raw)
    assert isinstance(inbound, object) and getattr(inbound, "text", None) == CHINESE


def outbound(**overrides: object) -> Outbound:
    fields: dict[str, object] = {
        "message_id": MessageId("m_9"), "conversation_id": ConversationId("c_1"), "channel": "email",
        "address": "zhang@example.test", "text": CHINESE, "author_name": "Alice Wang",
        "thread": {"reply_to": "<q2@example.test>", "references": "<q1@example.test> <m_1@hub.test> <q2@example.test>",
                   "subject": "停电报修", "mailbox": "support-billing@hub.test",
                   "mail_references": "<q0@example.test> <q1@example.test>"}, **overrides}
    return Outbound(**fields)  # type: ignore[arg-type]


def test_reply_threads_per_rfc5322() -> None:
    composed = compose(outbound(), from_address="support@hub.test", from_name="Northgrid", domain="hub.test", now=NOW)
    parsed = message_from_bytes(composed.message.as_bytes(), policy=policy.default)
    assert composed.message_id == "<m_9@hub.test>" == parsed["Message-ID"]
    assert parsed["In-Reply-To"] == "<q2@example.test>"
    assert parsed["References"].split() == ["<q0@example.test>", "<q1@example.test>", "<m_1@hub.test>",
                                            "<q2@example.test>"]
    assert parsed["Subject"] == "Re: 停电报修"
    assert parsed["From"].addresses[0].addr_spec == "support-billing@hub.test"  # the mailbox it came to
    assert parsed.get_body(("plain",)).get_content().strip() == CHINESE  # type: ignore[union-attr]


def test_buttons_become_numbered_lines() -> None:
    composed = compose(outbound(text="Choose:", buttons=({"title": "Pay my bill", "payload": "/pay"},
                                                         {"title": "Agent", "payload": "/human"})),
                       from_address="support@hub.test", from_name="Northgrid", domain="hub.test", now=NOW)
    body = composed.message.get_body(("plain",))
    assert body is not None and "1. Pay my bill\n2. Agent" in body.get_content()


@pytest.mark.parametrize("address", ["", "no-at-sign", "a@b@c.test", "x@example.test\r\nBcc: y@example.test",
                                     "<a@example.test>", "a b@example.test"])
def test_invalid_recipient_is_refused_before_sending(address: str) -> None:
    with pytest.raises(InvalidAddress):
        compose(outbound(address=address), from_address="support@hub.test", from_name="N", domain="hub.test", now=NOW)


@pytest.mark.parametrize(("subject", "expected"), [("Bill", "Re: Bill"), ("Re: Bill", "Re: Bill"),
                                                   ("RE:Bill", "RE:Bill"), ("", "Your message to customer service"),
                                                   ("a\r\nBcc: x", "Re: a Bcc: x")])
def test_reply_subject(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected
