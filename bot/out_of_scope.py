"""Pure out-of-scope figures of an evaluation: recall, in-scope accuracy and macro-F1, the threshold curve.

A row is out of scope when its label is an explicit out-of-scope label or one the model does not
know. The bot treats a turn as out of scope when its best intent is a fallback intent or its
confidence is under the threshold. Handovers for other reasons (an intent without a response, a
human-only intent, "agent please") are not counted here: out-of-scope recall does not depend on
which intents have responses. The threshold is chosen on a validation split of the rows (a stable
third, by text) and the figures are reported on the other rows, or on all rows with a threshold
recorded with the model.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from bot.training.labels import intent_name

OUT_OF_SCOPE = "(out of scope)"
EXPLICIT = ("oos", "out_of_scope", "out-of-scope", "out of scope", "nlu_fallback")
OUT_OF_SCOPE_LABELS = frozenset({*EXPLICIT, *(intent_name(label) for label in EXPLICIT),
                                 *(intent_name(label.upper()) for label in EXPLICIT),
                                 *(intent_name(label.capitalize()) for label in EXPLICIT)})
GRID = tuple(round(i / 20, 2) for i in range(20))  # 0.00 .. 0.95
VALIDATION_SHARE = 3  # one row in three (by a hash of its text) chooses the threshold


@dataclass(frozen=True, slots=True, kw_only=True)
class Read:
    """One labelled row as the model read it: its best real intent (before any fallback) and confidence."""

    text: str
    expected: str  # the intent name of the row's label
    intent: str | None
    confidence: float

    def __repr__(self) -> str:
        return f"Read({self.expected} -> {self.intent} {self.confidence:.2f})"


def out_of_scope_row(expected: str, known: Collection[str], fallback: Collection[str]) -> bool:
    return expected.casefold() in OUT_OF_SCOPE_LABELS or expected in fallback or expected not in known


def rejected(read: Read, threshold: float, fallback: Collection[str]) -> bool:
    return read.intent is None or read.intent in fallback or read.confidence < threshold


def validation_split(reads: Sequence[Read]) -> tuple[list[Read], list[Read]]:
    """(validation, test): stable whatever the order of the rows."""
    validation: list[Read] = []
    test: list[Read] = []
    for read in reads:
        digest = hashlib.sha256(read.text.encode("utf-8")).digest()
        (validation if digest[0] % VALIDATION_SHARE == 0 else test).append(read)
    return validation, test


def figures(reads: Sequence[Read], known: Collection[str], fallback: Collection[str], threshold: float,
            other_handover: Collection[str] = ()) -> dict[str, Any]:
    """In-scope accuracy and macro-F1, out-of-scope recall, and the handovers for other reasons."""
    truth: list[str] = []
    guess: list[str] = []
    oos = oos_caught = in_scope = right = in_scope_rejected = other = 0
    for read in reads:
        out = out_of_scope_row(read.expected, known, fallback)
        no = rejected(read, threshold, fallback)
        truth.append(OUT_OF_SCOPE if out else read.expected)
        guess.append(OUT_OF_SCOPE if no else str(read.intent))
        if out:
            oos += 1
            oos_caught += int(no)
        else:
            in_scope += 1
            right += int(not no and read.intent == read.expected)
            in_scope_rejected += int(no)
        other += int(not no and read.intent in other_handover)
    return {"threshold": threshold, "rows": len(reads), "in_scope_rows": in_scope, "out_of_scope_rows": oos,
            "in_scope_accuracy": right / in_scope if in_scope else None,
            "in_scope_macro_f1": _macro_f1_in_scope(truth, guess),
            "in_scope_handed_over": in_scope_rejected / in_scope if in_scope else None,
            "out_of_scope_recall": oos_caught / oos if oos else None,
            "handed_over_for_other_reasons": other / len(reads) if reads else None}


def choose_threshold(reads: Sequence[Read], known: Collection[str], fallback: Collection[str]) -> float | None:
    """The grid threshold at which the keep-or-hand-over decision is right for the most rows.

    Right: keeping an in-scope row read right; handing over an out-of-scope row or one read wrong.
    Ties go to the lower threshold (fewer handovers). None without rows.
    """
    if not reads:
        return None
    should_keep = [not out_of_scope_row(r.expected, known, fallback) and r.intent == r.expected for r in reads]
    best, best_right = GRID[0], -1
    for threshold in GRID:
        right = sum(keep != rejected(r, threshold, fallback) for r, keep in zip(reads, should_keep, strict=True))
        if right > best_right:
            best, best_right = threshold, right
    return best


def report(reads: Sequence[Read], known: Collection[str], fallback: Collection[str], *,
           recorded: float | None = None, other_handover: Collection[str] = ()) -> dict[str, Any]:
    """The ``out_of_scope`` section of an evaluation (see the module's docstring)."""
    if recorded is not None:
        threshold, source, validation, test = recorded, "model", 0, list(reads)
    else:
        chosen, test = validation_split(reads)
        validation = len(chosen)
        picked = choose_threshold(chosen, known, fallback)
        threshold, source = (picked, "validation split") if picked is not None else (0.0, "none (no rows)")
        if not test:
            test = list(reads)
    curve = [{key: value for key, value in figures(test, known, fallback, t).items()
              if key in ("threshold", "in_scope_accuracy", "in_scope_handed_over", "out_of_scope_recall")}
             for t in GRID]
    return {**figures(test, known, fallback, threshold, other_handover), "threshold_source": source,
            "validation_rows": validation, "curve": curve}


def _macro_f1_in_scope(truth: Sequence[str], guess: Sequence[str]) -> float | None:
    actual = Counter(t for t in truth if t != OUT_OF_SCOPE)
    if not actual:
        return None
    predicted = Counter(guess)
    hits = Counter(t for t, g in zip(truth, guess, strict=True) if t == g)
    scores = []
    for label, support in actual.items():
        precision = hits[label] / predicted[label] if predicted[label] else 0.0
        recall = hits[label] / support
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores)
