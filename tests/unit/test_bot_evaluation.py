"""bot/evaluation.py: metrics of labelled turns, with out-of-domain rows as 'should hand over'."""

from __future__ import annotations

import pytest

from bot.evaluation import HANDOVER, Prediction, evaluate, labels_of, macro_f1, read_csv, shown
from bot.handover import HandoverPolicy
from bot.training.labels import intent_name

POLICY = HandoverPolicy(confidence_threshold=0.5)
KNOWN = {"check_bill", "pay_bill", "talk_to_human", "nlu_fallback"}


def test_metrics_on_a_small_set() -> None:
    rows = [
        Prediction("check_bill", "check_bill", 0.9),    # kept, right
        Prediction("pay_bill", "check_bill", 0.8),      # kept, wrong
        Prediction("pay_bill", "pay_bill", 0.3),        # low confidence: handed over (should not)
        Prediction("oos", "nlu_fallback", 0.35),        # out of domain, handed over: right
        Prediction("oos", "check_bill", 0.7),           # out of domain, kept: wrong
        Prediction("talk_to_human", "talk_to_human", 0.99),  # asked: handed over, right
    ]
    result = evaluate(rows, KNOWN, POLICY)
    assert result["turns"] == 6
    assert result["intent_accuracy"] == pytest.approx(3 / 4)  # in-domain rows only
    assert result["accuracy"] == pytest.approx(3 / 6)
    assert result["handover_rate"] == pytest.approx(3 / 6)
    assert result["kept_accuracy"] == pytest.approx(1 / 3)
    assert result["per_intent"][HANDOVER]["support"] == 3.0
    # The model's reading of the in-domain rows, apart from the policy's handovers.
    assert set(result["intent_per_intent"]) == {"check_bill", "pay_bill", "talk_to_human"}
    assert result["intent_per_intent"]["pay_bill"]["recall"] == pytest.approx(1 / 2)
    assert result["intent_macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)


def test_intents_without_a_response_are_read_per_label_though_the_policy_hands_them_over() -> None:
    rows = read_csv("text,category\nmy card payment was reverted,reverted_card_payment?\n"
                    "where is my card,card_arrival\ncard still not here,card_arrival\n")
    predictions = [Prediction(r.intent, got, 0.9, text=r.text)
                   for r, got in zip(rows, [rows[0].intent, "card_arrival", rows[0].intent], strict=True)]
    policy = HandoverPolicy(confidence_threshold=0.5, human_only_intents=frozenset(r.intent for r in rows))
    result = shown(evaluate(predictions, {r.intent for r in rows}, policy), labels_of(rows))
    assert set(result["per_intent"]) == {HANDOVER}  # every turn is handed over by policy
    assert set(result["intent_per_intent"]) == {"reverted_card_payment?", "card_arrival"}
    assert result["intent_per_intent"]["card_arrival"]["recall"] == pytest.approx(1 / 2)
    assert result["intent_accuracy"] == pytest.approx(2 / 3)


def test_macro_f1_is_the_mean_over_true_labels() -> None:
    assert macro_f1(["a", "a", "b"], ["a", "b", "b"]) == pytest.approx((2 / 3 + 2 / 3) / 2)
    assert macro_f1([], []) is None


def test_read_csv_requires_columns_and_values() -> None:
    rows = read_csv("text,intent\n我家停电了,report_outage\nhi,greet\n")
    assert [r.intent for r in rows] == ["report_outage", "greet"]
    with pytest.raises(ValueError, match="header"):
        read_csv("a,b\n1,2\n")
    with pytest.raises(ValueError, match="line 3"):
        read_csv("text,intent\nhello,greet\n,greet\n")


# --- out of scope ----------------------------------------------------------------------------------

def oos_rows(n: int) -> list[Prediction]:
    """In-scope rows read confidently, out-of-scope rows (unknown or explicit label) read weakly."""
    rows = []
    for i in range(n):
        rows.append(Prediction("check_bill", "check_bill", 0.9, text=f"bill {i}"))
        rows.append(Prediction("pay_bill", "pay_bill", 0.6, text=f"pay {i}"))
        rows.append(Prediction("weather", "nlu_fallback", 0.4, text=f"weather {i}", top_intent="pay_bill",
                               top_confidence=0.3))
        rows.append(Prediction(intent_name("Out of scope"), "check_bill", 0.45, text=f"joke {i}"))  # as read
    return rows


def test_out_of_scope_recall_is_apart_from_policy_handovers() -> None:
    rows = oos_rows(30)
    plain = evaluate(rows, KNOWN, POLICY)["out_of_scope"]
    # Every known intent handed over by policy (no responses, or human-only) changes no out-of-scope figure.
    strict = evaluate(rows, KNOWN, HandoverPolicy(human_only_intents=frozenset({"check_bill", "pay_bill"})))
    oos = strict["out_of_scope"]
    assert {k: v for k, v in oos.items() if k != "handed_over_for_other_reasons"} == {
        k: v for k, v in plain.items() if k != "handed_over_for_other_reasons"}
    assert plain["handed_over_for_other_reasons"] == 0 and oos["handed_over_for_other_reasons"] > 0
    assert strict["handover_rate"] == 1.0  # the old figure: every turn handed over, nothing learned from it

    # The threshold is chosen on the validation third: between 0.45 and 0.6 everything is decided right.
    assert oos["threshold_source"] == "validation split" and 0.45 < oos["threshold"] <= 0.6
    assert 0 < oos["validation_rows"] < 120 and oos["rows"] == 120 - oos["validation_rows"]
    assert oos["out_of_scope_recall"] == 1.0 and oos["in_scope_accuracy"] == 1.0
    assert oos["in_scope_macro_f1"] == 1.0 and oos["in_scope_handed_over"] == 0.0
    curve = {point["threshold"]: point for point in oos["curve"]}
    assert curve[0.0]["out_of_scope_recall"] == 0.0  # Rasa's fallback is replaced by the threshold
    assert 0.3 < curve[0.9]["in_scope_accuracy"] < 0.7 and curve[0.9]["out_of_scope_recall"] == 1.0

    recorded = evaluate(rows, KNOWN, POLICY, threshold=0.0)["out_of_scope"]
    assert recorded["threshold_source"] == "model" and recorded["rows"] == 120
    assert recorded["out_of_scope_recall"] == 0.0 and recorded["in_scope_macro_f1"] < 1.0


def test_labels_are_read_as_written_and_shown_back() -> None:
    rows = read_csv("text,intent\nmy card payment was reverted,reverted_card_payment?\n"
                    "电费怎么交,缴费 问题\nhi,greet\n")
    assert rows[0].intent == intent_name("reverted_card_payment?") and rows[0].label == "reverted_card_payment?"
    assert rows[2].intent == "greet" and rows[2].label == ""
    labels = labels_of(rows)
    predictions = [Prediction(r.intent, r.intent, 0.9, text=r.text) for r in rows]
    result = shown(evaluate(predictions, {r.intent for r in rows}, POLICY), labels)
    assert {"reverted_card_payment?", "缴费 问题", "greet"} <= set(result["per_intent"])
    assert result["labels"] == {intent_name("缴费 问题"): "缴费 问题",
                                intent_name("reverted_card_payment?"): "reverted_card_payment?"}
    assert result["intent_accuracy"] == 1.0 and result["out_of_scope"]["out_of_scope_rows"] == 0
