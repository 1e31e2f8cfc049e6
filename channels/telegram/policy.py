"""Pure decisions of the Telegram channel: how updates arrive, how a reply is cut and keyed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

MAX_TEXT_UTF16 = 4096  # sendMessage: "1-4096 characters after entities parsing"; Telegram counts UTF-16 units
MAX_CALLBACK_DATA_BYTES = 64  # InlineKeyboardButton.callback_data: 1-64 bytes

ReceiveMode = Literal["webhook", "polling"]


def receive_mode(mode: str, public_url: str | None, secret_configured: bool) -> ReceiveMode:
    """``auto`` is a webhook when Telegram can reach us (a public URL) and can prove itself (a secret).

    Raises:
        ValueError: ``webhook`` was asked for without a public URL or without a secret.
    """
    if mode == "polling":
        return "polling"
    if public_url and secret_configured:
        return "webhook"
    if mode == "webhook":
        raise ValueError("telegram webhook mode needs a public URL and HUB_TELEGRAM__WEBHOOK_SECRET")
    return "polling"


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _fitting_prefix(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` UTF-16 units (astral characters take two)."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def split_text(text: str, limit: int = MAX_TEXT_UTF16) -> list[str]:
    """Cut a long reply into messages Telegram accepts, at a line break or space when there is one."""
    chunks: list[str] = []
    rest = text
    while _utf16_len(rest) > limit:
        cut = _fitting_prefix(rest, limit)
        brk = max(rest.rfind("\n", 0, cut), rest.rfind(" ", 0, cut))
        if brk > cut // 2:
            cut = brk + 1
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:]
    chunks.append(rest)
    return [chunk for chunk in chunks if chunk.strip()] or [text]


def keyboard_fits(buttons: Sequence[Mapping[str, str]]) -> bool:
    """Inline buttons carry the payload as callback data, which must be 1-64 bytes."""
    return all(1 <= len(b.get("payload", "").encode()) <= MAX_CALLBACK_DATA_BYTES and b.get("title")
               for b in buttons)
