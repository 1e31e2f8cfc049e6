"""SMS segment arithmetic: GSM-7 or UCS-2, how many parts a text takes, and splitting within a budget.

Pure. The console's composer counts the same way (console/static/console/sms.js; the unit tests
keep both tables identical). 3GPP TS 23.038: the GSM 7-bit default alphabet takes one septet per
character, its extension table (``^{}\\[~]|€`` and form feed) two (escape + character); anything
else forces UCS-2, counted in UTF-16 code units (an emoji takes two). One SMS holds 160 septets or
70 units; the parts of a concatenated one 153 or 67 (the 6-octet UDH), and a character is never
split across two parts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")


class Encoding(enum.StrEnum):
    GSM7 = "gsm7"
    UCS2 = "ucs2"


# (units in a single SMS, units per part of a concatenated one)
CAPACITY = {Encoding.GSM7: (160, 153), Encoding.UCS2: (70, 67)}


@dataclass(frozen=True, slots=True)
class SegmentCount:
    """How a text goes out: its encoding, its length in septets (GSM-7) or UTF-16 units (UCS-2),
    the number of parts, and how many units are left in the last part."""

    encoding: Encoding
    units: int
    segments: int
    per_segment: int
    remaining: int


def encoding_of(text: str) -> Encoding:
    return Encoding.GSM7 if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text) else Encoding.UCS2


def unit_cost(char: str, encoding: Encoding) -> int:
    if encoding is Encoding.GSM7:
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def _parts(costs: list[int], capacity: int) -> list[int]:
    """Greedy packing of character costs into parts of ``capacity`` units; returns each part's size
    in characters. A character (an escape pair, a surrogate pair) is never split."""
    sizes: list[int] = []
    used = count = 0
    for cost in costs:
        if used + cost > capacity:
            sizes.append(count)
            used = count = 0
        used += cost
        count += 1
    if count:
        sizes.append(count)
    return sizes


def count(text: str) -> SegmentCount:
    """Segments of ``text`` as the operator bills it (0 for the empty text)."""
    encoding = encoding_of(text)
    single, multi = CAPACITY[encoding]
    costs = [unit_cost(c, encoding) for c in text]
    units = sum(costs)
    if units <= single:
        return SegmentCount(encoding, units, 1 if text else 0, single, single - units)
    sizes = _parts(costs, multi)
    last = sum(costs[len(text) - sizes[-1]:])
    return SegmentCount(encoding, units, len(sizes), multi, multi - last)


def split(text: str, max_segments: int) -> list[str]:
    """``text`` in chunks of at most ``max_segments`` segments each, broken at a space or line
    break near the end of a chunk when there is one (each chunk goes out as one SMS, concatenated)."""
    if max_segments < 1:
        raise ValueError("max_segments must be at least 1")
    chunks: list[str] = []
    rest = text
    while count(rest).segments > max_segments:
        encoding = encoding_of(rest)
        single, multi = CAPACITY[encoding]
        budget = single if max_segments == 1 else multi * max_segments
        used = size = 0
        for char in rest:
            used += unit_cost(char, encoding)
            if used > budget:
                break
            size += 1
        # Packing characters into parts can waste a unit per part boundary: shrink until it fits.
        while count(rest[:size]).segments > max_segments:
            size -= 1
        cut = max(rest.rfind(" ", 0, size + 1), rest.rfind("\n", 0, size + 1))
        if cut > size * 4 // 5:
            size = cut + 1
        chunks.append(rest[:size].rstrip())
        rest = rest[size:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks
