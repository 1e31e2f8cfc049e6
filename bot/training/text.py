"""Pure text rules of the curated data: cleaning, the dedupe key, language, intent names."""

from __future__ import annotations

import re
import unicodedata

MAX_TEXT_CHARS = 500
MAX_INTENT_CHARS = 100  # of a label; any text (bot.training.labels maps it to a safe intent name)
ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]+\)")  # Rasa's inline entity markup: [3100123456](account_number)
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
SPACE = re.compile(r"\s+")


def clean(text: str) -> str:
    """One line of text as it is stored and exported: no control characters, single spaces."""
    return SPACE.sub(" ", CONTROL.sub(" ", text)).strip()


def key_of(text: str) -> str:
    """The dedupe key: entity markup removed, NFKC, case-folded, whitespace collapsed."""
    plain = ANNOTATION.sub(r"\1", text)
    return SPACE.sub(" ", unicodedata.normalize("NFKC", plain).casefold()).strip()


def language_of(text: str) -> str:
    """``zh`` when the text has CJK characters, else ``en`` (the two languages the bot serves)."""
    return "zh" if CJK.search(text) else "en"


def intent_problem(label: str) -> str | None:
    """Why ``label`` cannot be an intent's label, or None (any characters are fine; they are mapped)."""
    if not label:
        return "empty intent"
    if len(label) > MAX_INTENT_CHARS:
        return f"intent longer than {MAX_INTENT_CHARS} characters"
    return None


def text_problem(text: str) -> str | None:
    if not text:
        return "empty text"
    if len(text) > MAX_TEXT_CHARS:
        return f"text longer than {MAX_TEXT_CHARS} characters"
    return None
