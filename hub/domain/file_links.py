"""Links to an agent's file for channels that carry no files (SMS, Telegram), pure (ADR 0046): the
path names the file, an expiry and an HMAC of both under the hub's secret key, so whoever has the
message can fetch that one file until it expires, and nobody can forge a link to another."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

LINK_TTL = timedelta(days=7)


def signature(secret: bytes, attachment_id: str, expires: int) -> str:
    return hmac.new(secret, f"file:{attachment_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def link_path(secret: bytes, attachment_id: str, now: datetime) -> str:
    expires = int((now + LINK_TTL).timestamp())
    return f"/files/{attachment_id}?e={expires}&s={signature(secret, attachment_id, expires)}"


def link_valid(secret: bytes, attachment_id: str, expires: str, given: str, now: datetime) -> bool:
    """True for an unexpired link this hub signed."""
    if not expires.isdigit() or len(expires) > 12:
        return False
    if int(expires) < now.timestamp():
        return False
    expected = signature(secret, attachment_id, int(expires)).encode()
    return hmac.compare_digest(expected, given.encode("ascii", "replace"))
