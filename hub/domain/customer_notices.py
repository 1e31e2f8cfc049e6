"""What the customer is told while a human takes over (pure): the handover, outside hours, the resolve.

Texts are configuration (``HUB_NOTICES__TEXTS``) over these zh and en defaults; placeholders are
``{position}``, ``{minutes}`` and ``{opens}``. The language is the customer's: Chinese characters in
their last message, else the conversation's language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from hub.domain.events import EventType
from hub.domain.ids import ChannelName

LANGUAGES = ("en", "zh")
# ruff: noqa: RUF001 - Chinese text is written with Chinese (full-width) commas
DEFAULT_TEXTS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "handover": "Connecting you to an agent.",
        "position": "Connecting you to an agent. You are number {position} in the queue.",
        "position_wait": "Connecting you to an agent. You are number {position} in the queue; the expected wait "
                         "is about {minutes} min.",
        "wait": "Connecting you to an agent. The expected wait is about {minutes} min.",
        "closed": "We are closed now. We open at {opens}; an agent will answer your message then.",
        "resolved": "This conversation is resolved. Thank you for contacting us; write again any time.",
    },
    "zh": {
        "handover": "正在为您转接人工客服。",
        "position": "正在为您转接人工客服，您前面排队第 {position} 位。",
        "position_wait": "正在为您转接人工客服，您前面排队第 {position} 位，预计等待约 {minutes} 分钟。",
        "wait": "正在为您转接人工客服，预计等待约 {minutes} 分钟。",
        "closed": "现在是非服务时间，我们将于 {opens} 开始服务，届时客服会回复您的留言。",
        "resolved": "本次会话已解决，感谢您的来访，如有需要请随时联系我们。",
    },
}
OFFLINE_SUBJECT = {"en": "Your message to customer service", "zh": "您给客服的留言"}
MIN_ANSWERED = 3  # fewer answers in the window: no expected wait (one long wait would mislead)
HANDOVER_TYPES = frozenset({EventType.HANDED_OVER.value, EventType.QUEUED.value})
HUMAN_STATES = frozenset({"assigned", "wrap_up"})
_HAN = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True, slots=True, kw_only=True)
class Waiting:
    """What is known of a queued conversation's wait; None: unknown, and then nothing is said."""

    position: int | None = None
    minutes: int | None = None
    opens: datetime | None = None  # set only when the queue is closed now


def expected_minutes(answered: int, wait_ms: int) -> int | None:
    """The recent average speed of answer in whole minutes (rounded up), None when too few answers."""
    if answered < MIN_ANSWERED:
        return None
    return max(1, -(-wait_ms // (answered * 60_000)))


def notice_language(conversation_language: str, last_customer_text: str | None) -> str:
    if last_customer_text and _HAN.search(last_customer_text):
        return "zh"
    return "zh" if conversation_language.lower().startswith("zh") else "en"


def text_of(language: str, key: str, texts: Mapping[str, Mapping[str, str]]) -> str:
    language = language if language in LANGUAGES else "en"
    return texts.get(language, {}).get(key) or DEFAULT_TEXTS[language][key]


def handover_text(language: str, waiting: Waiting, zone: ZoneInfo,
                  texts: Mapping[str, Mapping[str, str]]) -> str:
    """The message on handover: closed and when we open, else the position or the wait when known."""
    if waiting.opens is not None:
        opens = waiting.opens.astimezone(zone)
        when = opens.strftime("%Y-%m-%d %H:%M") if language == "zh" else opens.strftime("%a %d %b %H:%M")
        return text_of(language, "closed", texts).replace("{opens}", when)
    if waiting.position is not None and waiting.minutes is not None:
        return (text_of(language, "position_wait", texts).replace("{position}", str(waiting.position))
                .replace("{minutes}", str(max(1, waiting.minutes))))
    if waiting.position is not None:
        return text_of(language, "position", texts).replace("{position}", str(waiting.position))
    if waiting.minutes is not None:
        return text_of(language, "wait", texts).replace("{minutes}", str(max(1, waiting.minutes)))
    return text_of(language, "handover", texts)


def should_tell(*, event_type: str, from_state: str | None, to_state: str, channel: str) -> str | None:
    """Which notice an event calls for: ``handover``, ``resolved`` (a conversation a human held) or
    None. Callers hear their prompts instead (the voice channel is left out)."""
    if channel == "voice":
        return None
    if event_type in HANDOVER_TYPES and to_state == "queued":
        return "handover"
    if event_type == EventType.RESOLVED.value and from_state in HUMAN_STATES:
        return "resolved"
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class OfflineMessage:
    """A validated form (``console/offline_form.py`` checks sizes, addresses and Unicode)."""

    name: str
    email: str | None
    phone: str | None
    text: str
    queue: str
    language: str

    def way_back(self) -> tuple[ChannelName, str]:
        """The channel and address the answer goes to: the e-mail address when given, else the phone."""
        if self.email:
            return "email", self.email
        return "sms", self.phone or ""

    def meta(self) -> Mapping[str, str]:
        """What the channel needs to answer in kind: an e-mail answer needs a subject."""
        return {"subject": OFFLINE_SUBJECT[self.language if self.language in LANGUAGES else "en"]} if self.email else {}

    def __repr__(self) -> str:  # no personal data in logs
        return f"OfflineMessage(queue={self.queue})"
