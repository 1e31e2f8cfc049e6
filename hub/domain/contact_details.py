"""What the contact panel shows of a contact, pure: readable identities and customer attributes.

An identity reads as a person would say it: a phone number grouped as one is written, an e-mail
as its address, a Telegram id as a Telegram user, and a web visitor as "Web visitor" with a short
tag derived from the visitor id (agents tell two visitors apart; the id itself is never shown).

Customer attributes are the few facts a utility's hotline asks for (account number, supply
address, meter id). Only those keys exist; values are trimmed, single-spaced, of bounded length
and free of control characters. Who may change them is ``hub.domain.visibility``'s rule.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from hub.domain.contacts import TOMBSTONE_PREFIX, parse_key
from hub.errors import InvalidInput

# key -> the longest value accepted
ATTRIBUTES: Mapping[str, int] = {"account_number": 40, "address": 300, "meter_id": 40}
TAG_LENGTH = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadableIdentity:
    channel: str
    kind: str  # phone, email, telegram, visitor, other
    label: str
    tag: str | None = None


def readable(key: str) -> ReadableIdentity:
    """One stored identity key (``sms:+86…``) as the panel shows it."""
    identity = parse_key(key)
    channel, address = str(identity.channel), identity.address
    if channel in ("sms", "voice"):
        return ReadableIdentity(channel=channel, kind="phone", label=format_phone(address))
    if channel == "email":
        return ReadableIdentity(channel=channel, kind="email", label=address)
    if channel == "telegram":
        return ReadableIdentity(channel=channel, kind="telegram", label=f"Telegram user {address}")
    if channel == "webchat":
        return ReadableIdentity(channel=channel, kind="visitor", label="Web visitor", tag=visitor_tag(address))
    return ReadableIdentity(channel=channel, kind="other", label=f"{channel} identity")


def readable_all(keys: list[str]) -> list[ReadableIdentity]:
    return [readable(k) for k in sorted(keys) if not k.startswith(TOMBSTONE_PREFIX)]


def format_phone(e164: str) -> str:
    """``+8613800138000`` → ``+86 138 0013 8000`` (China's mobile grouping); others as ``+CC rest``
    in groups of up to four from the end, the way numbers are printed on bills."""
    if not e164.startswith("+") or not e164[1:].isdigit():
        return e164
    digits = e164[1:]
    if digits.startswith("86") and len(digits) == 13:
        return f"+86 {digits[2:5]} {digits[5:9]} {digits[9:]}"
    if digits.startswith("1") and len(digits) == 11:  # North America: +1 415 555 0123
        return f"+1 {digits[1:4]} {digits[4:7]} {digits[7:]}"
    cc_len = 1 if digits[0] in "17" else 2
    country, rest = digits[:cc_len], digits[cc_len:]
    groups: list[str] = []
    while rest:
        groups.insert(0, rest[-4:])
        rest = rest[:-4]
    return " ".join([f"+{country}", *groups])


def visitor_tag(visitor_id: str) -> str:
    """A short, stable tag for a web visitor; not reversible to the id."""
    return "#" + hashlib.sha256(visitor_id.encode()).hexdigest()[:TAG_LENGTH].upper()


def clean_attributes(changes: Mapping[str, str | None]) -> tuple[dict[str, str], list[str]]:
    """Validated changes: (values to set, keys to clear). ``None`` or a blank value clears.
    Raises InvalidInput naming the key, never echoing the value."""
    to_set: dict[str, str] = {}
    to_clear: list[str] = []
    for key, raw in changes.items():
        if key not in ATTRIBUTES:
            raise InvalidInput(f"unknown attribute {key[:40]!r}; allowed: {', '.join(ATTRIBUTES)}")
        value = " ".join((raw or "").split())
        if not value:
            to_clear.append(key)
            continue
        if len(value) > ATTRIBUTES[key]:
            raise InvalidInput(f"{key} has at most {ATTRIBUTES[key]} characters")
        if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in value):
            raise InvalidInput(f"{key} holds a control or unassigned character")
        to_set[key] = value
    return to_set, to_clear
