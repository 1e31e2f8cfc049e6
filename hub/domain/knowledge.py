"""The knowledge base, pure: search terms for Chinese and English, article and canned-reply checks.

Chinese has no spaces between words, and neither SecantusDB nor mongod's ``$text`` segments it,
so search runs on our own terms (ADR 0035): a run of Chinese characters gives its characters and
its overlapping character pairs (bigrams), any other run of letters or digits gives the lower-cased
word. A query matches an article holding all of the query's terms: a two-character Chinese word in
the middle of a sentence is one of that sentence's bigrams.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hub.errors import InvalidInput

_CJK_CHAR = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_CJK_CHAR}]+|[^\W_{_CJK_CHAR}]+")
_CJK_RUN = re.compile(rf"[{_CJK_CHAR}]+")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_INTENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_VARIABLE = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")
MAX_TITLE = 200
MAX_BODY = 50_000
MAX_QUERY = 200
MAX_QUERY_TERMS = 40
MAX_INTENTS = 20
LANGUAGES = frozenset({"zh", "en"})
# What a canned reply may say; the console fills them from the conversation (docs/api.md).
# Two spellings: the hub's first, single-brace names ({customer_name}) and Chatwoot's dotted ones
# ({{contact.name}}, ADR 0046). The console's canned.js fills both from the same values.
CANNED_VARIABLES = frozenset({"customer_name", "order_number", "agent_name", "account_number", "channel",
                              "contact.name", "contact.account_number", "contact.address", "contact.meter_id",
                              "agent.name", "conversation.id", "conversation.channel"})
MAX_CANNED_TEXT = 2_000


def _units(text: str) -> list[str]:
    return _RUN.findall(unicodedata.normalize("NFKC", text).casefold())


def index_terms(text: str) -> list[str]:
    """The terms an article is found by: Chinese characters and bigrams, other words whole; sorted, unique."""
    terms: set[str] = set()
    for unit in _units(text):
        if _CJK_RUN.fullmatch(unit):
            terms.update(unit)
            terms.update(unit[i:i + 2] for i in range(len(unit) - 1))
        else:
            terms.add(unit)
    return sorted(terms)


def query_terms(query: str) -> list[str]:
    """The terms an article must all hold to match ``query``: bigrams of a Chinese run (its one
    character when it is alone), other words whole. Raises InvalidInput for an empty or long query."""
    if len(query) > MAX_QUERY:
        raise InvalidInput(f"a search has at most {MAX_QUERY} characters")
    terms: list[str] = []
    for unit in _units(query):
        if _CJK_RUN.fullmatch(unit) and len(unit) > 1:
            terms.extend(unit[i:i + 2] for i in range(len(unit) - 1))
        else:
            terms.append(unit)
    unique = list(dict.fromkeys(terms))
    if not unique:
        raise InvalidInput("a search needs at least one letter, digit or Chinese character")
    return unique[:MAX_QUERY_TERMS]


def rank(query: str, title: str, body: str) -> int:
    """Higher is better: the whole query in the title, then in the body, then term matches in the title."""
    needle = unicodedata.normalize("NFKC", query).casefold().strip()
    folded_title = unicodedata.normalize("NFKC", title).casefold()
    score = 0
    if needle and needle in folded_title:
        score += 100
    if needle and needle in unicodedata.normalize("NFKC", body).casefold():
        score += 10
    title_terms = set(index_terms(title))
    return score + sum(1 for term in query_terms(query) if term in title_terms)


@dataclass(frozen=True, slots=True, kw_only=True)
class ArticleDraft:
    """An article as an editor saves it (Markdown body); checked by :func:`check_article`."""

    title: str
    body: str
    category: str
    language: str
    intents: tuple[str, ...] = ()


def check_article(draft: ArticleDraft) -> ArticleDraft:
    """The draft with its title trimmed; InvalidInput saying what is wrong."""
    title = " ".join(draft.title.split())
    if not 1 <= len(title) <= MAX_TITLE:
        raise InvalidInput(f"a title has 1 to {MAX_TITLE} characters")
    if not draft.body.strip() or len(draft.body) > MAX_BODY:
        raise InvalidInput(f"a body has 1 to {MAX_BODY} characters")
    check_slug(draft.category, "category")
    if draft.language not in LANGUAGES:
        raise InvalidInput(f"language is one of {', '.join(sorted(LANGUAGES))}")
    if len(draft.intents) > MAX_INTENTS:
        raise InvalidInput(f"an article answers at most {MAX_INTENTS} intents")
    for intent in draft.intents:
        if not _INTENT.match(intent):
            raise InvalidInput(f"not an intent name: {intent[:64]!r}")
    return ArticleDraft(title=title, body=draft.body, category=draft.category, language=draft.language,
                        intents=tuple(dict.fromkeys(draft.intents)))


def check_slug(value: str, what: str) -> str:
    if not _SLUG.match(value):
        raise InvalidInput(f"a {what} id is 1 to 63 lower-case letters, digits, '-' or '_'")
    return value


def pick_answer(articles: Iterable[Mapping[str, str]], language: str) -> Mapping[str, str] | None:
    """The article that answers an intent for a customer writing ``language``: one in that language,
    else the first one linked (an intent is answered in some language rather than not at all)."""
    candidates = list(articles)
    for article in candidates:
        if article.get("language") == language:
            return article
    return candidates[0] if candidates else None


# -- canned replies ------------------------------------------------------------------------------

def template_variables(text: str) -> list[str]:
    """The variables ``text`` uses, in order of first use; InvalidInput naming the unknown ones."""
    if not text.strip() or len(text) > MAX_CANNED_TEXT:
        raise InvalidInput(f"a canned reply has 1 to {MAX_CANNED_TEXT} characters")
    used = _names(text)
    unknown = [name for name in used if name not in CANNED_VARIABLES]
    if unknown:
        raise InvalidInput(f"unknown variable(s) {', '.join(_written(n) for n in unknown)}; known: "
                           f"{', '.join(_written(n) for n in sorted(CANNED_VARIABLES))}")
    return used


def _names(text: str) -> list[str]:
    return list(dict.fromkeys(m.group(1) or m.group(2) for m in _VARIABLE.finditer(text)))


def _written(name: str) -> str:
    return "{{" + name + "}}" if "." in name else "{" + name + "}"


def used_variables(text: str) -> list[str]:
    """The known variables ``text`` uses, leniently (a reply written before the check keeps working)."""
    return [name for name in _names(text) if name in CANNED_VARIABLES]


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each known variable replaced by its value; one without a value stays as written
    (the agent sees ``{order_number}`` and types it)."""
    return _VARIABLE.sub(lambda m: values.get(m.group(1) or m.group(2), m.group(0)), text)
