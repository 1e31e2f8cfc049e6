"""Pure MIME parsing: one raw RFC 5322 message -> the hub's ``InboundMessage``.

No I/O. Large messages are parsed off the event loop by the caller (``asyncio.to_thread``).
Broken input raises ``MalformedEmail`` (the watcher quarantines the message); an automatic
message (auto-reply, bounce) returns None: answering it could start a mail loop.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from email import errors as email_errors
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr
from pathlib import PurePosixPath, PureWindowsPath

from channels.email.text import fold, html_to_text
from hub.domain.ids import ExternalId
from hub.domain.model import Attachment, InboundMessage
from hub.domain.text import is_valid_unicode, repair

MAX_SUBJECT_CHARS = 300
MAX_TEXT_CHARS = 20_000
MAX_REFERENCES = 30
MESSAGE_ID = re.compile(r"<[^<>\s]{1,500}>")
ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"\\]{1,64}@[A-Za-z0-9.-]{1,253}$")
# Defects after which the structure cannot be trusted: parts may be missing or merged.
FATAL_DEFECTS = (email_errors.StartBoundaryNotFoundDefect, email_errors.MultipartInvariantViolationDefect,
                 email_errors.MissingHeaderBodySeparatorDefect,
                 email_errors.InvalidMultipartContentTransferEncodingDefect)


class MalformedEmail(ValueError):
    """The message cannot be read as an e-mail; the reason names no address and no text."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Body:
    text: str
    attachments: tuple[Attachment, ...]


def parse_email(raw: bytes, *, mailbox: str, received_at: datetime) -> InboundMessage | None:
    """The customer's new text (quoted history folded into ``meta["quoted"]``), the sender, the
    attachments, and the threading headers in ``meta`` (``subject``, ``mailbox``: the support address
    that received it, ``in_reply_to``, ``mail_references``). The Message-ID is the external id."""
    if not raw.strip():
        raise MalformedEmail("empty message")
    try:
        message = message_from_bytes(raw, policy=policy.default)
        return _inbound(message, raw, mailbox, received_at)
    except MalformedEmail:
        raise
    except (ValueError, TypeError, LookupError, IndexError, AttributeError, email_errors.MessageError) as err:
        # The stdlib's header and content managers raise a variety of these on garbage.
        raise MalformedEmail(f"unreadable MIME structure ({type(err).__name__})") from err


def _inbound(message: Message, raw: bytes, mailbox: str, received_at: datetime) -> InboundMessage | None:
    _check_structure(message)
    if _is_automatic(message):
        return None
    name, sender = _sender(message)
    subject = _one_line(str(message.get("subject") or ""))[:MAX_SUBJECT_CHARS]
    body = _body(message)
    folded = fold(body.text)
    text = folded.text or subject
    if not text and not body.attachments:
        raise MalformedEmail("no text and no attachment")
    meta = {"subject": subject, "mailbox": mailbox, "in_reply_to": _first_id(message.get("in-reply-to")),
            "mail_references": " ".join(_ids(message.get("references"))[-MAX_REFERENCES:]), "quoted": folded.quoted}
    # Undeclared 8-bit header bytes come out of the stdlib as lone surrogates (surrogateescape), and
    # UTF-7 bodies can hold them: an e-mail is kept, its unreadable characters shown as U+FFFD.
    return InboundMessage(
        channel="email", external_id=ExternalId(repair(_message_id(message, raw))), sender=sender,
        text=repair(text[:MAX_TEXT_CHARS]) or "(attachment)", received_at=received_at,
        sender_name=repair(name) or None, meta={k: repair(v) for k, v in meta.items() if v},
        attachments=tuple(replace(a, filename=repair(a.filename), content_type=repair(a.content_type))
                          for a in body.attachments))


def _check_structure(message: Message) -> None:
    for part in message.walk():
        for defect in part.defects:
            if isinstance(defect, FATAL_DEFECTS):
                raise MalformedEmail(f"broken MIME structure ({type(defect).__name__})")
    if message.get_content_maintype() == "multipart" and not isinstance(message.get_payload(), list):
        raise MalformedEmail("multipart message without parts")


def _is_automatic(message: Message) -> bool:
    """RFC 3834 Auto-Submitted, bounces (empty Return-Path) and list/bulk mail are never answered."""
    auto = str(message.get("auto-submitted") or "no").strip().lower()
    precedence = str(message.get("precedence") or "").strip().lower()
    return auto != "no" or message.get("return-path") == "<>" or precedence in ("bulk", "junk", "list")


def _sender(message: Message) -> tuple[str, str]:
    header = message.get("from")  # the identity the contact is recognised by (Reply-To is not)
    if header is None:
        raise MalformedEmail("no sender")
    addresses = getaddresses([str(header)])
    name, address = addresses[0] if addresses else parseaddr(str(header))
    address = address.strip().lower()
    if not ADDRESS.match(address) or not is_valid_unicode(address):
        raise MalformedEmail("sender address is not valid")
    return _one_line(name)[:100], address


def _message_id(message: Message, raw: bytes) -> str:
    """The Message-ID; a message without one gets a stable id from its bytes (still deduplicated)."""
    found = _first_id(message.get("message-id"))
    return found or f"<{hashlib.sha256(raw).hexdigest()[:32]}@no-message-id.invalid>"


def _first_id(header: object) -> str:
    ids = _ids(header)
    return ids[0] if ids else ""


def _ids(header: object) -> list[str]:
    return MESSAGE_ID.findall(str(header or ""))


def _one_line(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip()


def _body(message: Message) -> Body:
    plain: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    for part in _leaves(message):
        kind = part.get_content_type()
        disposition = part.get_content_disposition()
        if disposition == "attachment" or (part.get_filename() and not kind.startswith("text/")) or \
                part.get_content_maintype() not in ("text", "multipart"):
            attachments.append(_attachment(part))
        elif kind == "text/plain":
            plain.append(_decoded_text(part))
        elif kind == "text/html":
            html.append(_decoded_text(part))
    text = "\n\n".join(t for t in plain if t.strip()) or "\n\n".join(html_to_text(h) for h in html)
    return Body(text=text.strip(), attachments=tuple(attachments))


def _leaves(message: Message) -> Iterator[Message]:
    """Non-multipart parts; an attached e-mail (message/rfc822) is one attachment, not walked into."""
    if message.get_content_type() == "message/rfc822" and message is not None:
        yield message
        return
    if message.is_multipart():
        for part in message.get_payload():
            if isinstance(part, Message):
                if part.get_content_type() == "message/rfc822":
                    yield part
                else:
                    yield from _leaves(part)
        return
    yield message


def _decoded_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name: read it as UTF-8 rather than lose the text
        return data.decode("utf-8", errors="replace")


def _attachment(part: Message) -> Attachment:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        inner_message = inner[0] if isinstance(inner, list) and inner else None
        data = inner_message.as_bytes(policy=policy.SMTP) if isinstance(inner_message, EmailMessage) else b""
        return Attachment(filename=_filename(part, "message.eml"), content_type="message/rfc822", data=data)
    payload = part.get_payload(decode=True)
    return Attachment(filename=_filename(part, "attachment"), content_type=part.get_content_type(),
                      data=payload if isinstance(payload, bytes) else b"")


def _filename(part: Message, default: str) -> str:
    """The name without any directory part or control characters (it is shown and offered for download)."""
    name = str(part.get_filename() or "")
    name = PureWindowsPath(PurePosixPath(name).name).name
    name = re.sub(r"[\x00-\x1f\x7f\"\\/]", "", name).strip(" .")
    return name[:200] or default
