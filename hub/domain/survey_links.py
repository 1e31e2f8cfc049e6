"""The e-mail survey's link (pure): ``/survey/<token>``, the token naming the conversation and an
expiry, signed with HMAC-SHA256 under a key derived from the hub's secret.

Who holds the link may answer that one survey, once, until it expires; nothing else. No login:
the token is the whole authority, so it is long, unguessable and checked in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime

_PURPOSE = b"northgrid-hub/survey-link/v1"
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_TOKEN_CHARS = 160


@dataclass(frozen=True, slots=True)
class LinkClaim:
    conversation_id: str
    expires_at: datetime


class BadLink(ValueError):
    """Forged, malformed or expired: the page answers 404 or 410 and records nothing."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "invalid" or "expired"


def link_key(secret: bytes) -> bytes:
    """A key of its own for links, so a link never doubles as any other signature of the hub."""
    return hmac.new(secret, _PURPOSE, hashlib.sha256).digest()


def sign(key: bytes, conversation_id: str, expires_at: datetime) -> str:
    if not _ID.fullmatch(conversation_id):
        raise ValueError("conversation id unfit for a link")
    body = f"{conversation_id}.{int(expires_at.timestamp())}"
    return f"{body}.{_mac(key, body)}"


def verify(key: bytes, token: str, *, now: datetime) -> LinkClaim:
    """The claim of a genuine, unexpired token; raises :class:`BadLink` otherwise."""
    parts = token.split(".") if len(token) <= MAX_TOKEN_CHARS else []
    if len(parts) != 3 or not _ID.fullmatch(parts[0]) or not parts[1].isdigit() or len(parts[1]) > 12:
        raise BadLink("invalid")
    body = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(_mac(key, body), parts[2]):
        raise BadLink("invalid")
    expires_at = datetime.fromtimestamp(int(parts[1]), UTC)
    if expires_at <= now:
        raise BadLink("expired")
    return LinkClaim(parts[0], expires_at)


def _mac(key: bytes, body: str) -> str:
    digest = hmac.new(key, body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
