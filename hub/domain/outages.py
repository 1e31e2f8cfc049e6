"""Outage notices, pure: what an outage is, whom it concerns, what the SMS and the bot say, and
how fast notices may go out (ADR 0036). No I/O; the time is passed in."""

from __future__ import annotations

import enum
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from hub.errors import InvalidInput

MAX_AREA = 80
MAX_CAUSE = 300
MAX_NOTICE_TEXT = 480  # at most 7 UCS-2 segments


class NoticeKind(enum.StrEnum):
    OUTAGE = "outage"
    RESTORED = "restored"


@dataclass(frozen=True, slots=True, kw_only=True)
class Outage:
    id: str
    area: str
    cause: str
    start: datetime
    expected_restoration: datetime
    restored_at: datetime | None = None

    def active_at(self, now: datetime) -> bool:
        return self.restored_at is None and self.start <= now


def area_key(area: str) -> str:
    """How areas compare: NFKC, case-folded, inner spaces collapsed (``"North  District"`` = ``"north district"``)."""
    return " ".join(unicodedata.normalize("NFKC", area).casefold().split())


def clean_area(raw: str) -> str:
    area = " ".join(raw.split())
    if not 1 <= len(area) <= MAX_AREA:
        raise InvalidInput(f"an area has 1 to {MAX_AREA} characters")
    return area


def check_outage(*, area: str, cause: str, start: datetime, expected_restoration: datetime) -> tuple[str, str]:
    """The cleaned area and cause; InvalidInput when something does not hold."""
    cleaned_cause = " ".join(cause.split())
    if not 1 <= len(cleaned_cause) <= MAX_CAUSE:
        raise InvalidInput(f"a cause has 1 to {MAX_CAUSE} characters")
    if start.tzinfo is None or expected_restoration.tzinfo is None:
        raise InvalidInput("times need a UTC offset (ISO 8601, e.g. 2026-12-03T08:00:00+08:00)")
    if expected_restoration <= start:
        raise InvalidInput("the expected restoration must be after the start")
    return clean_area(area), cleaned_cause


def _local(at: datetime, zone: tzinfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _short(at: datetime, zone: tzinfo) -> str:
    return at.astimezone(zone).strftime("%m-%d %H:%M")


def notice_text(outage: Outage, kind: NoticeKind, zone: tzinfo) -> str:
    """The default SMS of a notice: Chinese, short enough for one SMS (70 UCS-2 characters) with
    a short area and cause; a supervisor may write her own instead."""
    if kind is NoticeKind.OUTAGE:
        return (f"【停电通知】{outage.area}自{_short(outage.start, zone)}停电（{outage.cause}），"  # noqa: RUF001 (Chinese punctuation)
                f"预计{_short(outage.expected_restoration, zone)}恢复。")
    restored = outage.restored_at or outage.expected_restoration
    return f"【恢复供电】{outage.area}已于{_short(restored, zone)}恢复供电，感谢您的耐心。"  # noqa: RUF001 (Chinese punctuation)


def check_notice_text(text: str) -> str:
    cleaned = text.strip()
    if not 1 <= len(cleaned) <= MAX_NOTICE_TEXT:
        raise InvalidInput(f"a notice has 1 to {MAX_NOTICE_TEXT} characters")
    return cleaned


def mentioned(outages: Sequence[Outage], text: str) -> list[Outage]:
    """The outages whose area the customer's message names (when the contact has no area on file)."""
    folded = area_key(text)
    return [o for o in outages if area_key(o.area) in folded]


def outage_answer(outages: Sequence[Outage], area: str | None, language: str, zone: tzinfo) -> str | None:
    """The bot's answer to "is there an outage at my address": the active outages of ``area``, or
    that there is none; None when the area is unknown and no outage was named (the bot's usual
    answer then points the customer to the outage map)."""
    if outages:
        if language == "zh":
            lines = [f"{o.area}目前停电（{o.cause}），自{_local(o.start, zone)}起，"  # noqa: RUF001 (Chinese punctuation)
                     f"预计{_local(o.expected_restoration, zone)}恢复。" for o in outages]
        else:
            lines = [f"There is a power cut in {o.area} ({o.cause}) since {_local(o.start, zone)}; "
                     f"we expect power back by {_local(o.expected_restoration, zone)}." for o in outages]
        return " ".join(lines)
    if area is None:
        return None
    if language == "zh":
        return f"{area}目前没有登记的停电。如果您家已停电，请告诉我们，我们会安排抢修。"  # noqa: RUF001 (Chinese punctuation)
    return f"We have no power cut on record for {area}. If your power is off, tell us and we will send a crew."


def send_id(notice_key: str, seq: int) -> str:
    """The id of a notice's ``seq``-th SMS: Kannel's dlr-url carries it back (``[A-Za-z0-9_-]``)."""
    return f"ns_{notice_key}_{seq}"


def allowance(*, rate_per_s: float, elapsed_s: float, sent: int, burst: int) -> int:
    """How many SMS may go now: the run's budget so far (``rate * elapsed``) less what it sent, at
    most ``burst`` at once (a late tick never floods the SMSC)."""
    if elapsed_s < 0:
        return 0
    return max(0, min(burst, math.floor(elapsed_s * rate_per_s) - sent))


def paced_origin(*, began_s: float, now_s: float, sent: int, rate_per_s: float, burst: int) -> float:
    """The pace's origin, moved on so that a stall (a slow batch, a slow database) banks at most
    ``burst``: a token bucket, so the sender never runs above the rate for long to catch up."""
    return max(began_s, now_s - (sent + burst) / rate_per_s)
