"""Pure parsing of widget frames into typed values; every refusal has a stable code."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.clock import parse_iso
from hub.domain.text import invalid_text_path, json_may_hold_surrogates

CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
MAX_RECEIPT_IDS = 200


class FrameError(ValueError):
    """A frame the hub refuses; ``code`` goes to the widget in an ``error`` frame."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True, kw_only=True)
class Hello:
    visitor_id: str | None
    token: str | None
    since: datetime | None
    name: str | None
    language: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerText:
    client_id: str
    text: str
    payload: str | None = None  # a quick-reply button's payload (the text is its title)

    def __repr__(self) -> str:
        return f"CustomerText({self.client_id})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Typing:
    active: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt:
    status: str  # "delivered" | "read"
    message_ids: tuple[str, ...]


Frame = Hello | CustomerText | Typing | Receipt


def parse_frame(raw: str, *, max_text_chars: int) -> Frame:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # JSONDecodeError, 4300+ digit integers, deep nesting
        raise FrameError("bad_json", "frames must be JSON objects") from None
    if not isinstance(data, dict):
        raise FrameError("bad_frame", "frames must be JSON objects")
    invalid = invalid_text_path(data) if json_may_hold_surrogates(raw) else None
    if invalid is not None:  # "\ud800" escapes: JSON allows them, UTF-8 and the database do not
        raise FrameError("invalid_text", f"{invalid[:80]} is not valid Unicode (a lone surrogate)")
    kind = data.get("type")
    if kind == "hello":
        return _hello(data)
    if kind == "message":
        return _text(data, max_text_chars)
    if kind == "typing":
        return Typing(active=bool(data.get("active")))
    if kind in ("delivered", "read"):
        return _receipt(kind, data)
    raise FrameError("bad_frame", f"unknown frame type {str(kind)[:40]!r}")


def _string(data: dict[str, Any], key: str, limit: int) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise FrameError("bad_frame", f"{key} must be a string of at most {limit} characters")
    return value


def _hello(data: dict[str, Any]) -> Hello:
    visitor = data.get("visitor")
    if visitor is not None and not isinstance(visitor, dict):
        raise FrameError("bad_frame", "visitor must be an object or null")
    since_text = _string(data, "since", 40)
    try:
        since = parse_iso(since_text) if since_text else None
    except ValueError:
        raise FrameError("bad_frame", "since must be an ISO-8601 timestamp") from None
    name = (_string(data, "name", 80) or "").strip() or None
    return Hello(
        visitor_id=_string(visitor, "id", 64) if visitor else None,
        token=_string(visitor, "token", 128) if visitor else None,
        since=since, name=name, language=(_string(data, "language", 10) or "en"),
    )


def _text(data: dict[str, Any], max_chars: int) -> CustomerText:
    client_id = data.get("client_id")
    if not isinstance(client_id, str) or not CLIENT_ID.fullmatch(client_id):
        raise FrameError("bad_frame", "client_id must be 8-64 characters of [A-Za-z0-9_-]")
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise FrameError("bad_frame", "text must be a non-empty string")
    if len(text) > max_chars:
        raise FrameError("too_long", f"messages are limited to {max_chars} characters")
    payload = _string(data, "payload", 200)
    return CustomerText(client_id=client_id, text=text, payload=payload)


def _receipt(kind: str, data: dict[str, Any]) -> Receipt:
    ids = data.get("message_ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) and len(i) <= 64 for i in ids):
        raise FrameError("bad_frame", "message_ids must be a list of ids")
    return Receipt(status=kind, message_ids=tuple(ids[:MAX_RECEIPT_IDS]))
