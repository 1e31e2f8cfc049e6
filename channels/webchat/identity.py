"""Web visitors' identity: an id and an HMAC token the widget keeps in localStorage.

The token proves the widget was given that id by us, so one visitor cannot read another's
conversation by guessing ids. Pure functions; the secret comes from the settings.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def issue(secret: bytes) -> tuple[str, str]:
    visitor_id = f"v_{secrets.token_urlsafe(16)}"
    return visitor_id, sign(secret, visitor_id)


def sign(secret: bytes, visitor_id: str) -> str:
    return hmac.new(secret, visitor_id.encode(), hashlib.sha256).hexdigest()


def verify(secret: bytes, visitor_id: str, token: str) -> bool:
    try:
        given = token.encode("ascii")
    except UnicodeEncodeError:  # tokens are hex; anything else is simply wrong
        return False
    return hmac.compare_digest(sign(secret, visitor_id).encode(), given)
