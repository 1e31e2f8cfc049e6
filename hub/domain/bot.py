"""What the bot tells the hub, and the context a human gets when the bot hands over."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field


class HandoverReason(enum.StrEnum):
    ASKED = "asked"  # the customer asked for a human
    LOW_CONFIDENCE = "low_confidence"
    REPEATED_FALLBACK = "repeated_fallback"
    BOT_UNAVAILABLE = "bot_unavailable"
    POLICY = "policy"  # an intent only humans handle (complaints, outage reports)
    OUT_OF_SCOPE = "out_of_scope"  # the best intent is under the active model's out-of-scope threshold


@dataclass(frozen=True, slots=True, kw_only=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BotReply:
    text: str
    buttons: tuple[Button, ...] = ()

    def __repr__(self) -> str:
        return f"BotReply(buttons={len(self.buttons)})"


@dataclass(frozen=True, slots=True, kw_only=True)
class BotTurn:
    """The bot's reading of one customer message and what it would answer."""

    intent: str | None
    confidence: float
    entities: Mapping[str, str] = field(default_factory=dict)
    replies: tuple[BotReply, ...] = ()
    # The best real intent of the ranking before Rasa's fallback classifier replaced it with
    # ``nlu_fallback`` (the same as ``intent`` when it did not): what the out-of-scope threshold reads.
    best_intent: str | None = None
    best_confidence: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class HandoverContext:
    """Stored on the conversation, shown to the agent as a card, used by routing."""

    reason: HandoverReason
    intent: str | None
    confidence: float
    intents: tuple[tuple[str, float], ...]  # the last intents, oldest first
    entities: Mapping[str, str]
    summary: str
    transcript: tuple[tuple[str, str], ...]  # (author, text), oldest first
    language: str
    channel: str
    queue: str
    priority: int

    def to_doc(self) -> dict[str, object]:
        return {
            "reason": self.reason.value, "intent": self.intent, "confidence": round(self.confidence, 3),
            "intents": [{"intent": i, "confidence": round(c, 3)} for i, c in self.intents],
            "entities": dict(self.entities), "summary": self.summary,
            "transcript": [{"author": a, "text": t} for a, t in self.transcript],
            "language": self.language, "channel": self.channel, "queue": self.queue, "priority": self.priority,
        }

    def __repr__(self) -> str:
        return f"HandoverContext({self.reason} intent={self.intent} queue={self.queue})"
