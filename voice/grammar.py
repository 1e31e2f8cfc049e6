"""The recognition grammar of a language, built from what the bot's trainers curated, and the
reading of what the recogniser heard against it. Pure: texts in, texts out.

In grammar mode Vosk only hears the words of the phrases it is given (cheap, and usable on
synthetic or noisy speech), but it strings them freely: "주세요 요금을 확인하고 싶어요" for
"전기 요금을 확인하고 싶어요". ``closest`` reads such a result as the curated phrase it shares most
words with, and as nothing when it shares too few (Vosk forces any sound onto grammar words, even
silence or another language, often with full confidence).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
LATIN = re.compile(r"[A-Za-z]")
NOT_WORD = re.compile(r"[^\w\s]+")
SPACES = re.compile(r"\s+")
SCRIPT_OF = {"ko": HANGUL, "zh": HAN, "yue": HAN, "ja": HAN}
MAX_PHRASES = 400  # a grammar this big still decodes at a few per cent of real time


def normalise(text: str) -> str:
    """Lower case, no punctuation, single spaces (what Vosk returns is in this form)."""
    text = unicodedata.normalize("NFKC", text).lower()
    return SPACES.sub(" ", NOT_WORD.sub(" ", text)).strip()


def in_language(text: str, language: str) -> bool:
    """Whether ``text`` is written in ``language``'s script (Latin for any other language)."""
    script = SCRIPT_OF.get(language.split("-")[0])
    if script is not None:
        return bool(script.search(text))
    return bool(LATIN.search(text)) and not HANGUL.search(text) and not HAN.search(text)


def phrases(language: str, examples: Iterable[str], quick_replies: Iterable[str] = ()) -> tuple[str, ...]:
    """The grammar: the quick replies' titles first, then the curated examples, in ``language``."""
    seen: dict[str, None] = {}
    for text in (*quick_replies, *examples):
        phrase = normalise(text)
        if phrase and in_language(phrase, language) and len(seen) < MAX_PHRASES:
            seen.setdefault(phrase, None)
    return tuple(seen)


def _units(text: str) -> list[str]:
    """Words; characters for text written without spaces (Chinese)."""
    words = text.split()
    if len(words) == 1 and HAN.search(text):
        return list(text)
    return words


def closest(heard: str, grammar: Iterable[str], *, minimum: float = 0.55) -> str | None:
    """The grammar phrase ``heard`` is: the best F1 of shared words, above one word of three."""
    said = _units(normalise(heard))
    if not said:
        return None
    best, best_score = None, 0.0
    for phrase in grammar:
        units = _units(phrase)
        if not units:
            continue
        remaining = list(units)
        shared = 0
        for unit in said:
            if unit in remaining:
                remaining.remove(unit)
                shared += 1
        if not shared:
            continue
        precision, recall = shared / len(said), shared / len(units)
        score = 2 * precision * recall / (precision + recall)
        if score > best_score:
            best, best_score = phrase, score
    return best if best_score >= minimum else None
