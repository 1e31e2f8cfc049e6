"""bot/handover.py: when the bot keeps a conversation and when, and why, a human takes over."""

from __future__ import annotations

import pytest

from bot.handover import HandoverPolicy, Reading, decide, route_for
from hub.domain.bot import HandoverReason as R

POLICY = HandoverPolicy(confidence_threshold=0.5, max_fallbacks=2)


@pytest.mark.parametrize(("reading", "previous", "reason", "fallbacks"), [
    (None, 0, R.BOT_UNAVAILABLE, 0),
    (None, 1, R.BOT_UNAVAILABLE, 1),
    (Reading(intent=None, confidence=0.0), 0, R.BOT_UNAVAILABLE, 0),
    (Reading(intent="talk_to_human", confidence=0.99), 1, R.ASKED, 0),
    (Reading(intent="talk_to_human", confidence=0.2), 0, R.ASKED, 0),  # asking is enough
    (Reading(intent="complaint", confidence=0.9), 0, R.POLICY, 0),
    (Reading(intent="report_outage", confidence=0.9), 0, R.POLICY, 0),
    (Reading(intent="check_bill", confidence=0.49), 0, R.LOW_CONFIDENCE, 0),
    (Reading(intent="check_bill", confidence=0.5), 1, None, 0),  # a good turn resets the fallbacks
    (Reading(intent="check_bill", confidence=0.93), 0, None, 0),
    (Reading(intent="nlu_fallback", confidence=0.4), 0, None, 1),  # first miss: the bot asks again
    (Reading(intent="out_of_scope", confidence=0.9), 1, R.REPEATED_FALLBACK, 2),
    (Reading(intent="nlu_fallback", confidence=0.1), 1, R.REPEATED_FALLBACK, 2),
])
def test_decide(reading: Reading | None, previous: int, reason: R | None, fallbacks: int) -> None:
    decision = decide(reading, previous_fallbacks=previous, policy=POLICY)
    assert decision.handover == reason
    assert decision.fallbacks == fallbacks


def test_max_fallbacks_is_configurable() -> None:
    lenient = HandoverPolicy(max_fallbacks=3)
    miss = Reading(intent="nlu_fallback", confidence=0.3)
    assert decide(miss, previous_fallbacks=1, policy=lenient).handover is None
    assert decide(miss, previous_fallbacks=2, policy=lenient).handover is R.REPEATED_FALLBACK


def test_route_for_uses_the_latest_topical_intent_or_the_default() -> None:
    queues = {"check_bill": "billing", "complaint": "complaints"}
    assert route_for(["check_bill"], queues, "general") == "billing"
    assert route_for(["check_bill", "talk_to_human"], queues, "general") == "billing"
    assert route_for(["complaint", "check_bill", None], queues, "general") == "billing"
    assert route_for(["greet", "talk_to_human"], queues, "general") == "general"
    assert route_for([], queues, "general") == "general"


MODEL = HandoverPolicy(confidence_threshold=0.5, max_fallbacks=2, out_of_scope_threshold=0.35)


@pytest.mark.parametrize(("reading", "previous", "reason"), [
    (Reading(intent="check_bill", confidence=0.36), 0, None),  # the model's threshold, not the configured 0.5
    (Reading(intent="check_bill", confidence=0.34), 1, R.OUT_OF_SCOPE),
    (Reading(intent="out_of_scope", confidence=0.9), 0, R.OUT_OF_SCOPE),  # no asking again: out of scope
    (Reading(intent="nlu_fallback", confidence=0.9), 0, R.OUT_OF_SCOPE),
    (Reading(intent="talk_to_human", confidence=0.2), 0, R.ASKED),  # asking is still enough
    (Reading(intent="complaint", confidence=0.9), 0, R.POLICY),
    (Reading(intent="complaint", confidence=0.2), 0, R.OUT_OF_SCOPE),
    (None, 1, R.BOT_UNAVAILABLE),
])
def test_the_models_threshold_decides_when_there_is_one(reading: Reading | None, previous: int,
                                                         reason: R | None) -> None:
    decision = decide(reading, previous_fallbacks=previous, policy=MODEL)
    assert decision.handover == reason
    assert decision.fallbacks == (previous if reading is None else 0)


def test_keeps_reads_the_models_threshold_else_the_configured_one() -> None:
    assert MODEL.keeps(0.35) and not MODEL.keeps(0.349)
    assert POLICY.keeps(0.5) and not POLICY.keeps(0.49)
