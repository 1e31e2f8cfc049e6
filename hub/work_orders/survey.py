"""The callback survey's answer (回访), read from a customer's reply (pure).

The rule where it could collide with other questions asked of the same customer (the
conversation's own satisfaction survey): the work-order survey asks the customer to answer with
the order number, and a reply that names an order number in survey (``WO…``) is that order's.
A bare digit answers a work-order survey only when the customer has exactly one order in survey
and nothing else claims it (``hub.work_orders.service`` decides that part).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NUMBER = re.compile(r"WO[0-9]{4,12}", re.IGNORECASE)
_ANSWER = re.compile(r"\s*(?:(WO[0-9]{4,12})[\s:：,，.#-]*)?([1-5])\s*[.。!！]?\s*", re.IGNORECASE)  # noqa: RUF001
DISSATISFIED = frozenset({1, 2})
MAX_ANSWER_CHARS = 40


@dataclass(frozen=True, slots=True)
class SurveyAnswer:
    number: str | None  # the order number the customer named, upper case; None for a bare digit
    score: int

    @property
    def dissatisfied(self) -> bool:
        return self.score in DISSATISFIED


def parse_answer(text: str) -> SurveyAnswer | None:
    """``"WO000012 1"``, ``"wo000012: 5"`` or ``"2"``; anything else is not a survey answer."""
    if len(text) > MAX_ANSWER_CHARS:
        return None
    match = _ANSWER.fullmatch(text)
    if match is None:
        return None
    number = match.group(1)
    return SurveyAnswer(number.upper() if number else None, int(match.group(2)))
