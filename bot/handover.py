"""Pure handover policy: does the bot keep the conversation, or does a human take over, and why.

No I/O, no clock: the caller passes the bot's reading of the turn and what the conversation
remembers of earlier turns (how many fallbacks in a row).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hub.domain.bot import HandoverReason


@dataclass(frozen=True, slots=True, kw_only=True)
class HandoverPolicy:
    """Configured rules (``HUB_BOT__*``)."""

    confidence_threshold: float = 0.5
    max_fallbacks: int = 2
    human_intents: frozenset[str] = frozenset({"talk_to_human"})
    human_only_intents: frozenset[str] = frozenset({"complaint", "report_outage"})
    fallback_intents: frozenset[str] = frozenset({"nlu_fallback", "out_of_scope"})
    # The active model's out-of-scope threshold, chosen on a validation split when it was trained
    # (ADR 0044, 0052). When set, it replaces ``confidence_threshold`` and Rasa's fallback threshold:
    # a turn whose best real intent is under it is handed over as out of scope.
    out_of_scope_threshold: float | None = None

    def keeps(self, confidence: float) -> bool:
        """Is the bot confident enough to keep a turn read with this confidence?"""
        if self.out_of_scope_threshold is not None:
            return confidence >= self.out_of_scope_threshold
        return confidence >= self.confidence_threshold


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    """What the bot understood of one customer turn (``None`` intent: the bot did not answer)."""

    intent: str | None
    confidence: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    handover: HandoverReason | None
    fallbacks: int  # consecutive fallbacks including this turn, to remember for the next


def decide(reading: Reading | None, *, previous_fallbacks: int, policy: HandoverPolicy) -> Decision:
    """``reading`` is None when the bot was unreachable, failed or too slow."""
    if reading is None or reading.intent is None:
        return Decision(handover=HandoverReason.BOT_UNAVAILABLE, fallbacks=previous_fallbacks)
    if policy.out_of_scope_threshold is not None:
        return _decide_by_threshold(reading, policy.out_of_scope_threshold, policy)
    if reading.intent in policy.human_intents:
        return Decision(handover=HandoverReason.ASKED, fallbacks=0)
    if reading.intent in policy.human_only_intents:
        return Decision(handover=HandoverReason.POLICY, fallbacks=0)
    if reading.intent in policy.fallback_intents:
        fallbacks = previous_fallbacks + 1
        reason = HandoverReason.REPEATED_FALLBACK if fallbacks >= policy.max_fallbacks else None
        return Decision(handover=reason, fallbacks=fallbacks)
    if reading.confidence < policy.confidence_threshold:
        return Decision(handover=HandoverReason.LOW_CONFIDENCE, fallbacks=0)
    return Decision(handover=None, fallbacks=0)


def _decide_by_threshold(reading: Reading, threshold: float, policy: HandoverPolicy) -> Decision:
    """The active model's threshold decides (on the best real intent, see ``bot.service``), not Rasa's
    hand-set fallback: under it, or a fallback intent, the turn is out of scope and a human takes it."""
    if reading.intent in policy.human_intents:
        return Decision(handover=HandoverReason.ASKED, fallbacks=0)
    if reading.intent in policy.fallback_intents or reading.confidence < threshold:
        return Decision(handover=HandoverReason.OUT_OF_SCOPE, fallbacks=0)
    if reading.intent in policy.human_only_intents:
        return Decision(handover=HandoverReason.POLICY, fallbacks=0)
    return Decision(handover=None, fallbacks=0)


def route_for(intents: Sequence[str | None], intent_queues: Mapping[str, str], default_queue: str) -> str:
    """The queue a handed-over conversation waits in: that of the most recent topical intent.

    ``intents`` is oldest first. "A human, please" or "hello" say nothing about the topic, so the
    last intent that has a queue decides (a bill question, then "agent please" -> billing).
    """
    for intent in reversed(intents):
        if intent and intent in intent_queues:
            return intent_queues[intent]
    return default_queue
