"""Satisfaction surveys after resolve (pure): whether to ask, how to read an answer, what comes next.

One survey per conversation, asked once after an agent resolved it, on the customer's channel. A
customer's next message while the survey is open is read as the answer: a score 1-5 in any of
the forms customers type ("5", a full-width five, "五", "⭐⭐⭐⭐⭐", "5分") or a button's payload
(``survey:5``). Something else is re-asked once; a second miss ends the survey and the message goes
on as an ordinary one, so nobody is asked a third time. A long message (a real question), a file,
or a work-order answer ("WO000012 1", ``hub.work_orders``) is not an attempt at the survey: it goes
on at once and the survey ends unanswered, without a re-ask.

CSAT (docs/kpis.md): the share of answered surveys that scored 4 or 5, and the mean score.
"""

from __future__ import annotations

import enum
import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

SCALE = (1, 2, 3, 4, 5)
SATISFIED = frozenset({4, 5})  # CSAT's numerator ("top two boxes")
PAYLOAD_PREFIX = "survey:"
MAX_REASKS = 1
MAX_ATTEMPT_CHARS = 12  # longer is a real message, not a score
_STARS = frozenset("⭐★🌟")
_WORDS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_SUFFIXES = ("stars", "star", "分", "星", "points", "/5")
_TRAILING = " \t.。!！"  # noqa: RUF001 (full-width punctuation customers type)
_WORK_ORDER = re.compile(r"[A-Za-z]{2}[0-9]{4,}")


class SurveyState(enum.StrEnum):
    OPEN = "open"  # asked; the customer's next message on the channel is read as the answer
    ANSWERED = "answered"
    STOPPED = "stopped"  # a second miss or a real message: ended unanswered
    NOT_ASKED = "not_asked"  # a call whose caller left before the survey step


@dataclass(frozen=True, slots=True, kw_only=True)
class Survey:
    """One conversation's survey as stored in ``surveys`` (``_id`` = the conversation: one each)."""

    conversation_id: str
    contact_id: str
    channel: str
    key: str  # the customer's address key on the channel (``hub.domain.contacts.inbound_key``)
    agent_id: str | None
    queue: str | None
    language: str
    state: SurveyState
    offered_at: datetime
    expires_at: datetime
    reasks: int = 0
    score: int | None = None
    answered_at: datetime | None = None

    def __repr__(self) -> str:  # the key is a phone number or an address
        return f"Survey(conv={self.conversation_id} {self.channel} {self.state})"


class Step(enum.StrEnum):
    ANSWER = "answer"  # store the score
    REASK = "reask"  # not a score: ask once more
    PASS_ON = "pass_on"  # not the survey's: the message goes on as usual, the survey ends


@dataclass(frozen=True, slots=True)
class Decision:
    step: Step
    score: int | None = None


def read_score(text: str, payload: str | None = None) -> int | None:
    """A score 1-5 from a button's payload or a customer's text; None when it is none."""
    if payload is not None and payload.startswith(PAYLOAD_PREFIX):
        return _digit(payload[len(PAYLOAD_PREFIX):])
    if len(text) > MAX_ATTEMPT_CHARS * 2:
        return None
    plain = unicodedata.normalize("NFKC", text).strip(_TRAILING).replace("\ufe0f", "").lower()
    for suffix in _SUFFIXES:
        plain = plain.removesuffix(suffix).strip()
    if plain and set(plain) <= _STARS:
        return len(plain) if len(plain) in SCALE else None
    return _WORDS.get(plain) or _digit(plain)


def _digit(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) == 1 and int(text) in SCALE else None


def decide(survey: Survey, text: str, payload: str | None = None, *, has_files: bool = False) -> Decision:
    """What a customer message does to an open survey."""
    score = read_score(text, payload)
    if score is not None:
        return Decision(Step.ANSWER, score)
    if has_files or len(text.strip()) > MAX_ATTEMPT_CHARS or _WORK_ORDER.search(text):
        return Decision(Step.PASS_ON)
    return Decision(Step.REASK) if survey.reasks < MAX_REASKS else Decision(Step.PASS_ON)


def should_offer(*, event_type: str, from_state: str | None, agent_id: str | None, channel: str,
                 enabled: bool, channels: Mapping[str, bool]) -> bool:
    """A survey follows a resolve of a conversation an agent handled, on a channel where it is on.

    The bot's own resolves and conversations closed while waiting are not surveyed: the score is
    an agent's, her queue's and her channel's.
    """
    return (enabled and event_type == "resolved" and from_state in ("assigned", "wrap_up")
            and bool(agent_id) and channels.get(channel, False))


def satisfied(score: int) -> bool:
    return score in SATISFIED


_QUESTION = {
    "en": "How satisfied are you with our service? Reply with a number from 1 (very dissatisfied) "
          "to 5 (very satisfied).",
    "zh": "请对本次服务进行评价：回复1-5的数字（1非常不满意，5非常满意）。",  # noqa: RUF001
}
_LINK = {
    "en": "How satisfied are you with our service? Rate it from 1 to 5 here: {link}",
    "zh": "请对本次服务进行评价（1-5分）：{link}",  # noqa: RUF001
}
_BUTTONS = {
    "en": "How satisfied are you with our service? 1 = very dissatisfied, 5 = very satisfied.",
    "zh": "请对本次服务进行评价：1分非常不满意，5分非常满意。",  # noqa: RUF001
}
_THANKS = {"en": "Thank you for your rating.", "zh": "感谢您的评价。"}


def language_of(language: str | None) -> str:
    return "zh" if (language or "").startswith("zh") else "en"


def question(language: str, *, form: str, link: str = "", texts: Mapping[str, str] | None = None) -> str:
    """The question's text: ``form`` is ``reply`` (SMS: answer with a digit), ``buttons`` (the
    widget's stars, Telegram's buttons) or ``link`` (e-mail). ``texts`` overrides per language."""
    lang = language_of(language)
    override = (texts or {}).get(lang)
    if form == "link":
        return f"{override} {link}" if override else _LINK[lang].format(link=link)
    if override:
        return override
    return (_BUTTONS if form == "buttons" else _QUESTION)[lang]


def thanks(language: str) -> str:
    return _THANKS[language_of(language)]


def score_buttons() -> tuple[Mapping[str, str], ...]:
    """The buttons of the question on channels with buttons: titles are the digits, payloads ``survey:N``."""
    return tuple({"title": str(n), "payload": f"{PAYLOAD_PREFIX}{n}"} for n in SCALE)


def key_digest(key: str) -> str:
    """A customer address key (``sms:+86…``) as the survey facts carry it: the same key always gives
    the same digest, and the bus and the processes' memory hold no phone number or e-mail address."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
