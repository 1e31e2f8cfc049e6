"""bot/evaluation.py: metrics of labelled turns, with out-of-domain rows as 'should hand over'."""

from __future__ import annotations

import pytest

from bot.evaluation import HANDOVER, Prediction, evaluate, macro_f1, read_csv
from bot.handover import HandoverPolicy

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
