"""How long one reply may be on a channel, pure (ADR 0046): the composer shows it and the server
enforces it, instead of a channel adapter truncating or splitting a reply silently.

Each channel declares its limit in its ``Capabilities`` (``hub.registry``) from what its adapter
really accepts: a number of characters (web chat, e-mail), UTF-16 units (Telegram's sendMessage
counts those), or SMS segments (GSM-7 or UCS-2 parts, counted by the SMS channel's own ``measure``).
A channel without a limit of its own, and an internal note, get ``DEFAULT_LIMIT``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

MAX_REPLY_CHARS = 4000  # a reply or note on a channel without a limit of its own


class LengthUnit(StrEnum):
    CHARACTERS = "characters"  # Unicode code points (what Python's len and the console's Array.from count)
    UTF16 = "utf16"  # UTF-16 code units (an emoji outside the BMP takes two)
    SMS_SEGMENTS = "sms_segments"  # parts of one concatenated SMS


def count_characters(text: str) -> int:
    return len(text)


def count_utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


UNIT_NAMES = {LengthUnit.CHARACTERS: "characters", LengthUnit.UTF16: "characters (UTF-16 units)",
              LengthUnit.SMS_SEGMENTS: "SMS segments"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyLimit:
    """At most ``maximum`` ``unit``s; ``measure`` counts a text in that unit (the SMS channel brings
    its segment counter; characters and UTF-16 units are counted here)."""

    unit: LengthUnit
    maximum: int
    measure: Callable[[str], int] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.maximum < 1:
            raise ValueError("a reply limit is at least 1")
        if self.unit is LengthUnit.SMS_SEGMENTS and self.measure is None:
            raise ValueError("an SMS segment limit needs the channel's segment counter")

    def size(self, text: str) -> int:
        if self.measure is not None:
            return self.measure(text)
        return count_utf16(text) if self.unit is LengthUnit.UTF16 else count_characters(text)

    def refusal(self, text: str, channel: str) -> str | None:
        """Why ``text`` is too long for ``channel`` (a sentence for the agent), or None when it fits."""
        size = self.size(text)
        if size <= self.maximum:
            return None
        unit = UNIT_NAMES[self.unit]
        return f"the reply is {size} {unit} long; {channel} takes at most {self.maximum} {unit}: shorten it"

    def to_json(self) -> dict[str, Any]:
        return {"unit": self.unit.value, "max": self.maximum}


DEFAULT_LIMIT = ReplyLimit(unit=LengthUnit.CHARACTERS, maximum=MAX_REPLY_CHARS)


def characters(maximum: int) -> ReplyLimit:
    return ReplyLimit(unit=LengthUnit.CHARACTERS, maximum=maximum)


def utf16_units(maximum: int) -> ReplyLimit:
    return ReplyLimit(unit=LengthUnit.UTF16, maximum=maximum)
