"""What the hub reads of Rasa's parse and what the dialogue hears when the model's threshold decides."""

from __future__ import annotations

from bot.handover import HandoverPolicy
from bot.rasa import best_reading, message_for
from bot.service import as_decided
from hub.domain.bot import BotTurn

PARSED = {"intent": {"name": "nlu_fallback", "confidence": 0.4},
          "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.4}, {"name": "check_bill", "confidence": 0.31},
                             {"name": "pay_bill", "confidence": 0.2}]}


def test_best_reading_skips_the_fallback_classifier() -> None:
    assert best_reading(PARSED) == ("check_bill", 0.31)
    assert best_reading({"intent": {"name": "greet", "confidence": 0.9}}) == ("greet", 0.9)
    assert best_reading({"intent_ranking": "broken"}) == (None, 0.0)
    assert best_reading(None) == (None, 0.0)


def test_the_dialogue_hears_the_kept_intent_instead_of_rasas_fallback() -> None:
    assert message_for("my bill", "nlu_fallback", "check_bill", 0.31, {}, 0.3) == "/check_bill"
    assert message_for("my bill", "nlu_fallback", "check_bill", 0.31, {"account": "12"}, 0.3) == \
        '/check_bill{"account": "12"}'
    assert message_for("my bill", "nlu_fallback", "check_bill", 0.31, {}, 0.35) == "my bill"  # out of scope
    assert message_for("my bill", "nlu_fallback", "check_bill", 0.31, {}, None) == "my bill"  # Rasa decides
    assert message_for("my bill", "check_bill", "check_bill", 0.9, {}, 0.3) == "my bill"


def test_as_decided_uses_the_best_intent_only_with_a_threshold() -> None:
    turn = BotTurn(intent="nlu_fallback", confidence=0.4, best_intent="check_bill", best_confidence=0.31)
    decided = as_decided(turn, HandoverPolicy(out_of_scope_threshold=0.3))
    assert (decided.intent, decided.confidence) == ("check_bill", 0.31)
    assert as_decided(turn, HandoverPolicy()) is turn
