"""Finding conversations, pure: what a search asks for, the console's views, labels (issue 16 item 1).

A search is a conversation id, or terms: the knowledge base's terms (``hub.domain.knowledge``,
ADR 0035: Chinese bigrams, other words whole), so 「电费」 finds a conversation where a customer
wrote 「这个月电费太高」. A conversation is indexed by its customer-visible messages (never private
notes: a viewer without the notes' sight must not learn them by searching), its contact's name and
identities (an e-mail address whole and by its words, a phone number by its digits and its last
eleven digits, as customers give them without the country code).

Who sees a result is ``hub.domain.visibility``'s rule, applied to every candidate by the caller.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from hub.domain.knowledge import MAX_QUERY, index_terms, query_terms
from hub.domain.states import OPEN_STATES, ConversationState
from hub.errors import InvalidInput

S = ConversationState
MAX_LABEL = 40
MAX_LABELS = 20  # per conversation
_LABEL = re.compile(r"^[\w\- .:/]+$")  # letters (any script), digits, space and - _ . : /
_CONVERSATION_ID = re.compile(r"^c_[A-Za-z0-9_-]{16}$")
_PHONE_LIKE = re.compile(r"^\+?[\d\s().-]{6,30}$")
_FILTER_VALUE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_INDEXED_CHARS = 50_000  # of one conversation's text


class View(enum.StrEnum):
    MINE = "mine"  # open and held by the viewer
    TEAM = "team"  # open and held by the viewer or a member of a team she leads
    OPEN = "open"  # every open conversation
    QUEUED = "queued"
    RESOLVED = "resolved"  # resolved or closed (and abandoned: finished without an agent)


FINISHED_STATES = frozenset({S.RESOLVED, S.CLOSED, S.ABANDONED})
VIEW_STATES: dict[View, frozenset[ConversationState]] = {
    View.MINE: OPEN_STATES, View.TEAM: OPEN_STATES, View.OPEN: OPEN_STATES,
    View.QUEUED: frozenset({S.QUEUED}), View.RESOLVED: FINISHED_STATES,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Filters:
    """One list of the console: a view, narrowed by queue, channel, label and a search."""

    view: View = View.OPEN
    queue: str | None = None
    channel: str | None = None
    label: str | None = None
    conversation_id: str | None = None  # the search was a conversation id
    terms: tuple[str, ...] = ()  # the search's terms (all must match)

    @property
    def searching(self) -> bool:
        return self.conversation_id is not None or bool(self.terms)


def parse_filters(*, view: str | None, queue: str | None, channel: str | None, label: str | None,
                  q: str | None) -> Filters:
    """The console's query string as :class:`Filters`; InvalidInput (400) saying what is wrong."""
    try:
        chosen = View(view or View.OPEN)
    except ValueError:
        raise InvalidInput(f"view is one of {', '.join(v.value for v in View)}") from None
    for name, value in (("queue", queue), ("channel", channel)):
        if value is not None and not _FILTER_VALUE.match(value):
            raise InvalidInput(f"{name} is 1 to 64 letters, digits, '-' or '_'")
    conversation_id, terms = search_terms(q) if q is not None and q.strip() else (None, ())
    return Filters(view=chosen, queue=queue, channel=channel, label=check_label(label) if label else None,
                   conversation_id=conversation_id, terms=terms)


def search_terms(q: str) -> tuple[str | None, tuple[str, ...]]:
    """A conversation id, or the terms a conversation must all hold. A phone number is one term
    (its digits, or its last eleven); anything else the knowledge base's query terms."""
    if len(q) > MAX_QUERY:
        raise InvalidInput(f"a search has at most {MAX_QUERY} characters")
    if "\x00" in q or any(unicodedata.category(ch) == "Cc" for ch in q):
        raise InvalidInput("a search holds no control characters")
    text = q.strip()
    if _CONVERSATION_ID.match(text):
        return text, ()
    if _PHONE_LIKE.match(text) and sum(ch.isdigit() for ch in text) >= 6:
        digits = "".join(ch for ch in text if ch.isdigit())
        return None, (digits[-11:],)
    return None, tuple(query_terms(text))


def identity_terms(identity: str) -> list[str]:
    """Terms of one contact identity (``sms:+8613800001111``, ``email:ann@example.org``)."""
    _, _, address = identity.partition(":")
    terms = set(index_terms(address))
    digits = "".join(ch for ch in address if ch.isdigit())
    if len(digits) >= 6 and _PHONE_LIKE.match(address):
        terms.update({digits, digits[-11:]})
    return sorted(terms)


def conversation_terms(texts: Iterable[str], *, contact_name: str, identities: Iterable[str]) -> list[str]:
    """The terms one conversation is found by (sorted, unique); its text is read up to
    ``MAX_INDEXED_CHARS`` (the latest messages beyond that are rarely what is searched)."""
    budget, parts = MAX_INDEXED_CHARS, []
    for text in texts:
        if budget <= 0:
            break
        parts.append(text[:budget])
        budget -= len(text)
    terms = set(index_terms("\n".join([contact_name, *parts])))
    for identity in identities:
        terms.update(identity_terms(identity))
    return sorted(terms)


def check_label(raw: str) -> str:
    """A label as stored: NFKC, trimmed, case-folded; 1 to ``MAX_LABEL`` letters (any script),
    digits, spaces and ``- _ . : /``. Markup and control characters are refused (400), not
    escaped: a label is a word to filter by, never text to render as HTML."""
    label = " ".join(unicodedata.normalize("NFKC", raw).split()).casefold()
    if not 1 <= len(label) <= MAX_LABEL:
        raise InvalidInput(f"a label has 1 to {MAX_LABEL} characters")
    if not _LABEL.match(label):
        raise InvalidInput("a label holds letters, digits, spaces and - _ . : / only")
    return label
