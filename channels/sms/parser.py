"""Pure parsing of Kannel's callbacks: MO messages (the sms-service ``get-url``) and delivery reports.

Kannel 1.4.5 calls ``/channels/sms/mo?secret=S&from=%p&to=%P&text=%b&coding=%c&charset=%C&id=%I...``
(scripts/kannel.sh writes that URL) and, per MT, the ``dlr-url`` the sender built:
``/channels/sms/dlr?secret=S&ref=<hub message id>&status=%d``. Both are parsed here from the RAW
query string, because ``text`` is percent-encoded in the message's own charset (UTF-16BE for a
UCS-2 MO without ``mo-recode``), which a UTF-8 query decoder would garble.
"""

from __future__ import annotations

import codecs
import hmac
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from hub.domain.ids import DeliveryStatus, ExternalId
from hub.domain.model import InboundMessage
from hub.domain.text import is_valid_unicode

# Kannel's %d: 1 delivered to the phone, 2 failed, 4 buffered at the SMSC, 8 accepted by the SMSC,
# 16 rejected by the SMSC. Buffered means the SMSC holds it (the phone is off): sent, not delivered.
DLR_STATUS: Mapping[int, DeliveryStatus] = {
    1: DeliveryStatus.DELIVERED,
    2: DeliveryStatus.FAILED,
    4: DeliveryStatus.SENT,
    8: DeliveryStatus.SENT,
    16: DeliveryStatus.FAILED,
}
PHONE = re.compile(r"\+?[0-9]{2,20}")
MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
KANNEL_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
# Kannel's coding: 0 = 7-bit (text in ``charset``, UTF-8 after mo-recode), 1 = 8-bit data, 2 = UCS-2.
DEFAULT_CHARSET = {0: "UTF-8", 1: "ISO-8859-1", 2: "UTF-16BE"}


class SmsInputError(ValueError):
    """A callback Kannel (or someone) sent that the hub refuses; ``status`` is the HTTP answer.
    The message never contains the query's values (phone numbers, text)."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReport:
    """One Kannel DLR for a message the hub sent: ``ref`` is the hub's message id."""

    ref: str
    kannel_status: int
    status: DeliveryStatus


def query_fields(raw_query: str, *, max_bytes: int) -> dict[str, bytes]:
    """The raw query string as field -> undecoded bytes (the first of repeated fields wins)."""
    if len(raw_query) > max_bytes:
        raise SmsInputError("query too large", 413)
    fields: dict[str, bytes] = {}
    for pair in raw_query.split("&"):
        if not pair:
            continue
        name, sep, value = pair.partition("=")
        if not sep:
            raise SmsInputError("malformed query")
        fields.setdefault(_unquote(name).decode("ascii", "replace"), _unquote(value))
    return fields


def _unquote(text: str) -> bytes:
    return urllib.parse.unquote_to_bytes(text.replace("+", " "))


def secret_ok(fields: Mapping[str, bytes], secret: bytes) -> bool:
    """Constant-time comparison of the ``secret`` field with the configured one."""
    return hmac.compare_digest(fields.get("secret", b""), secret)


def _ascii(fields: Mapping[str, bytes], name: str, pattern: re.Pattern[str] | None = None,
           required: bool = True) -> str:
    raw = fields.get(name)
    if raw is None or raw == b"":
        if required:
            raise SmsInputError(f"missing {name}")
        return ""
    try:
        value = raw.decode("ascii")
    except UnicodeDecodeError:
        raise SmsInputError(f"bad {name}") from None
    if pattern is not None and not pattern.fullmatch(value):
        raise SmsInputError(f"bad {name}")
    return value


def decode_text(raw: bytes, coding: int, charset: str) -> str:
    """Kannel's ``%b`` bytes as text, by its ``coding`` and ``charset`` (``%c`` and ``%C``)."""
    name = charset or DEFAULT_CHARSET[coding]
    if name.upper() in ("8-BIT", "BINARY"):
        name = DEFAULT_CHARSET[1]
    try:
        codecs.lookup(name)
        return raw.decode(name)
    except (LookupError, UnicodeError):  # not only UnicodeDecodeError: "undefined", "idna", "punycode"
        raise SmsInputError("text does not decode in its charset") from None


def parse_mo(fields: Mapping[str, bytes], *, received_at: datetime, max_text_chars: int) -> InboundMessage:
    """An MO callback's fields as the hub's inbound message; ``%I`` is the dedupe key (Kannel keeps it
    across its retries of the same MO)."""
    sender = _ascii(fields, "from", PHONE)
    receiver = _ascii(fields, "to", PHONE, required=False)
    kannel_id = _ascii(fields, "id", KANNEL_ID)
    coding_text = _ascii(fields, "coding", re.compile(r"[0-2]"), required=False) or "0"
    charset = _ascii(fields, "charset", re.compile(r"[A-Za-z0-9_.:-]{1,32}"), required=False)
    if "text" not in fields:
        raise SmsInputError("missing text")
    text = decode_text(fields["text"], int(coding_text), charset)
    if len(text) > max_text_chars:
        raise SmsInputError("text too long", 413)
    if "\x00" in text:
        raise SmsInputError("text contains NUL")
    if not is_valid_unicode(text):  # UTF-7 and a few other charsets decode to lone surrogates
        raise SmsInputError("text is not valid Unicode")
    meta = {"to": receiver} if receiver else {}
    return InboundMessage(channel="sms", external_id=ExternalId(f"kannel:{kannel_id}"), sender=sender,
                          text=text, received_at=received_at, meta=meta)


def parse_dlr(fields: Mapping[str, bytes]) -> DeliveryReport:
    ref = _ascii(fields, "ref", MESSAGE_ID)
    code = _ascii(fields, "status", re.compile(r"[0-9]{1,3}"))
    status = DLR_STATUS.get(int(code))
    if status is None:
        raise SmsInputError("unknown dlr status")
    return DeliveryReport(ref=ref, kannel_status=int(code), status=status)
