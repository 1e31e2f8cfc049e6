"""Pure: a staff message -> the e-mail that carries it, threaded per RFC 5322 section 3.6.4.

``Message-ID`` is derived from the hub's message id, so a resend after a crash carries the same
id (mail clients show it once); ``In-Reply-To`` is the customer's last message and ``References``
the customer's own chain followed by every id the hub knows of this thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from hub.domain.outbound import THREAD_REFERENCES, Outbound, numbered_text

ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
MESSAGE_ID = re.compile(r"<[^<>\s]{1,500}>")
MAX_REFERENCES = THREAD_REFERENCES  # what a References header keeps (the newest)
DEFAULT_SUBJECT = "Your message to customer service"


class InvalidAddress(ValueError):
    """The recipient can never be written to (the message fails for good)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Composed:
    message: EmailMessage
    message_id: str
    sender: str
    recipient: str


def valid_address(address: str) -> bool:
    return len(address) <= 254 and ADDRESS.match(address) is not None


def reply_subject(subject: str | None) -> str:
    subject = re.sub(r"\s+", " ", subject or "").strip()
    if not subject:
        return DEFAULT_SUBJECT
    return subject if re.match(r"^(re|aw|回复)\s*[:\uff1a]", subject, re.IGNORECASE) else f"Re: {subject}"


def references(thread_references: str, customer_chain: str, reply_to: str) -> list[str]:
    """The customer's chain first (it is the older history), then ours; no repeats, at most 30 (newest)."""
    ids = MESSAGE_ID.findall(customer_chain) + MESSAGE_ID.findall(thread_references) + MESSAGE_ID.findall(reply_to)
    return list(dict.fromkeys(ids))[-MAX_REFERENCES:]


def compose(outbound: Outbound, *, from_address: str, from_name: str, domain: str, now: datetime) -> Composed:
    """Raises ``InvalidAddress`` for a recipient that is not one plain e-mail address."""
    recipient = outbound.address.strip()
    if not valid_address(recipient):
        raise InvalidAddress("recipient is not a valid e-mail address")
    thread = outbound.thread
    sender = thread.get("mailbox") or from_address
    if not valid_address(sender):
        sender = from_address
    message_id = f"<{outbound.message_id}@{domain}>"
    message = EmailMessage()
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(now)
    message["From"] = formataddr((_display_name(outbound.author_name, from_name), sender))
    message["To"] = recipient
    message["Subject"] = reply_subject(thread.get("subject"))
    reply_to = "".join(MESSAGE_ID.findall(thread.get("reply_to", ""))[:1])
    if reply_to:
        message["In-Reply-To"] = reply_to
    chain = references(thread.get("references", ""), thread.get("mail_references", ""), reply_to)
    if chain:
        message["References"] = " ".join(chain)
    message.set_content(numbered_text(outbound.text, outbound.buttons))
    for file in outbound.files:  # an agent's files as MIME attachments (types checked on upload)
        maintype, _, subtype = file.content_type.partition("/")
        message.add_attachment(file.data, maintype=maintype or "application", subtype=subtype or "octet-stream",
                               filename=file.filename)
    return Composed(message=message, message_id=message_id, sender=sender, recipient=recipient)


def _display_name(author: str, team: str) -> str:
    author = re.sub(r"\s+", " ", author).strip()[:80]
    return f"{author} ({team})" if author and team else author or team
