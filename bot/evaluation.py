"""Pure evaluation of the bot on labelled turns: accuracy, macro-F1, and what would be handed over.

Rows whose label is not an intent the model knows (``oos`` and the like) are turns that *should*
be handed over: they count as correct when the policy hands them over, wrong when the bot keeps them.
Labels are mapped to intent names as on import (``bot.training.labels``) and shown as written; the
``out_of_scope`` section (``bot.out_of_scope``) keeps out-of-scope turns apart from policy handovers.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.handover import HandoverPolicy, Reading, decide
from bot.out_of_scope import Read, report
from bot.training.csvfile import columns
from bot.training.labels import intent_name, normal_label

HANDOVER = "(handover)"


@dataclass(frozen=True, slots=True)
class Labelled:
    text: str
    intent: str  # the intent name of the label
    label: str = ""  # as written, when it differs from the name

    def __repr__(self) -> str:
        return f"Labelled({self.intent})"


@dataclass(frozen=True, slots=True)
class Prediction:
    expected: str
    intent: str | None  # as served (Rasa's fallback applied)
    confidence: float
    text: str = ""
    top_intent: str | None = None  # the best real intent before any fallback, when known
    top_confidence: float | None = None

    def __repr__(self) -> str:
        return f"Prediction({self.expected} -> {self.intent} {self.confidence:.2f})"

    def read(self) -> Read:
        if self.top_intent is not None and self.top_confidence is not None:
            return Read(text=self.text, expected=self.expected, intent=self.top_intent,
                        confidence=self.top_confidence)
        return Read(text=self.text, expected=self.expected, intent=self.intent, confidence=self.confidence)


def read_csv(text: str) -> list[Labelled]:
    """``text,intent`` rows (a header line is required; ``label`` or ``category`` may name the intent
    column, as in ``hub bot import``); raises ValueError naming the bad line."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    found = columns(next(reader, []))
    if found is None:
        raise ValueError("the CSV needs a header with the columns text,intent")
    text_at, label_at = found
    rows = []
    for fields in reader:
        if not fields or all(not f.strip() for f in fields):
            continue
        line = reader.line_num
        text_value = fields[text_at].strip() if len(fields) > text_at else ""
        label = normal_label(fields[label_at]) if len(fields) > label_at else ""
        if not text_value or not label:
            raise ValueError(f"line {line}: empty text or intent")
        name = intent_name(label)
        rows.append(Labelled(text_value, name, label if name != label else ""))
    return rows


def labels_of(rows: Iterable[Labelled]) -> dict[str, str]:
    """``{intent name: label}`` of the rows whose label is not its own name."""
    return {row.intent: row.label for row in rows if row.label}


def shown(result: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    """The result with intent names shown as the trainer's labels, and the mapping listed."""
    if not labels:
        return result
    per_intent = {labels.get(name, name): row for name, row in result.get("per_intent", {}).items()}
    read = {labels.get(name, name): row for name, row in result.get("intent_per_intent", {}).items()}
    confusions = [{**pair, "expected": labels.get(pair["expected"], pair["expected"]),
                   "predicted": labels.get(pair["predicted"], pair["predicted"])}
                  for pair in result.get("confusions", [])]
    return {**result, "per_intent": per_intent, "intent_per_intent": read, "confusions": confusions,
            "labels": dict(sorted(labels.items()))}


def evaluate(predictions: Sequence[Prediction], known_intents: Iterable[str], policy: HandoverPolicy, *,
             threshold: float | None = None) -> dict[str, Any]:
    """``threshold``: the out-of-scope threshold recorded with the model (else chosen on a validation split)."""
    known = set(known_intents)
    humans = policy.fallback_intents | policy.human_intents | policy.human_only_intents
    truth: list[str] = []
    guess: list[str] = []
    handed = kept = kept_right = 0
    for p in predictions:
        decision = decide(Reading(intent=p.intent, confidence=p.confidence), previous_fallbacks=0, policy=policy)
        # One turn alone: a fallback intent is as good as a handover (the bot cannot answer it).
        hands_over = decision.handover is not None or (p.intent in policy.fallback_intents)
        # Turns a human should take (unknown, fallback, "agent please", complaints) expect a handover.
        expected = p.expected if p.expected in known and p.expected not in humans else HANDOVER
        truth.append(expected)
        guess.append(HANDOVER if hands_over else (p.intent or HANDOVER))
        if hands_over:
            handed += 1
        else:
            kept += 1
            kept_right += int(p.intent == p.expected)
    total = len(predictions)
    intent_right = sum(int(p.intent == p.expected) for p in predictions if p.expected in known)
    in_domain = sum(1 for p in predictions if p.expected in known)
    # The model's reading of the rows with a label it knows, whatever the policy does with the intent
    # (a public set's intents have no responses, so every one of them is a handover in per_intent).
    read_truth = [p.expected for p in predictions if p.expected in known]
    read_guess = [p.intent or HANDOVER for p in predictions if p.expected in known]
    return {
        "turns": total,
        "intent_accuracy": intent_right / in_domain if in_domain else None,
        "intent_macro_f1": macro_f1(read_truth, read_guess),
        "intent_per_intent": {label: row for label, row in per_intent(read_truth, read_guess).items()
                              if row["support"] > 0},
        "accuracy": sum(int(t == g) for t, g in zip(truth, guess, strict=True)) / total if total else None,
        "macro_f1": macro_f1(truth, guess),
        "handover_rate": handed / total if total else None,
        "kept_accuracy": kept_right / kept if kept else None,
        "per_intent": per_intent(truth, guess),
        "out_of_scope": report([p.read() for p in predictions], known, policy.fallback_intents, recorded=threshold,
                               other_handover=policy.human_intents | policy.human_only_intents),
    }


def per_intent(truth: Sequence[str], guess: Sequence[str]) -> dict[str, dict[str, float]]:
    labels = sorted(set(truth) | set(guess))
    tp = Counter(t for t, g in zip(truth, guess, strict=True) if t == g)
    predicted, actual = Counter(guess), Counter(truth)
    table = {}
    for label in labels:
        precision = tp[label] / predicted[label] if predicted[label] else 0.0
        recall = tp[label] / actual[label] if actual[label] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        table[label] = {"support": float(actual[label]), "precision": precision, "recall": recall, "f1": f1}
    return table


def macro_f1(truth: Sequence[str], guess: Sequence[str]) -> float | None:
    table = per_intent(truth, guess)
    scored = [row["f1"] for label, row in table.items() if row["support"] > 0]
    return sum(scored) / len(scored) if scored else None


def confusion_pairs(predictions: Sequence[Prediction], known_intents: Iterable[str], policy: HandoverPolicy,
                    top: int = 20) -> list[dict[str, Any]]:
    """The most frequent mistakes as ``{"expected", "predicted", "count"}``, labels as in ``evaluate``."""
    known = set(known_intents)
    humans = policy.fallback_intents | policy.human_intents | policy.human_only_intents
    pairs: Counter[tuple[str, str]] = Counter()
    for p in predictions:
        decision = decide(Reading(intent=p.intent, confidence=p.confidence), previous_fallbacks=0, policy=policy)
        hands_over = decision.handover is not None or (p.intent in policy.fallback_intents)
        expected = p.expected if p.expected in known and p.expected not in humans else HANDOVER
        guess = HANDOVER if hands_over else (p.intent or HANDOVER)
        if guess != expected:
            pairs[(expected, guess)] += 1
    return [{"expected": e, "predicted": g, "count": n} for (e, g), n in pairs.most_common(top)]
