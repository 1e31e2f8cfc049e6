"""The knowledge base: categories, articles (Markdown rendered here and sanitised by nh3), search
that works for Chinese and English, suggestions by intent, the bot's FAQ answers, and canned
replies with variables (docs/architecture.md, "Knowledge"; ADR 0035).

Editors write Markdown; raw HTML in it is allowed through markdown-it and then cleaned by nh3's
allow-list, so a ``<script>`` or an ``onerror=`` never reaches a page. The console shows the
stored ``html`` as it is: it is the only HTML the console inserts as markup.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import nh3
from markdown_it import MarkdownIt

from hub.clock import Clock
from hub.domain.ids import new_id
from hub.domain.knowledge import (
    CANNED_VARIABLES,
    ArticleDraft,
    check_article,
    check_slug,
    index_terms,
    pick_answer,
    query_terms,
    rank,
    template_variables,
)
from hub.domain.model import Conversation
from hub.errors import InvalidInput, NotFound
from hub.storage.knowledge import MongoKnowledgeStore

MAX_RESULTS = 50
MAX_NAME = 100
# Links open outside the console, never with its window as opener.
LINK_ATTRIBUTES = {"rel": "noopener noreferrer nofollow", "target": "_blank"}
_MARKDOWN = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table")


def render(markdown: str) -> str:
    """Markdown to HTML that is safe to insert: nh3's allow-list (no scripts, styles, event
    handlers or ``javascript:`` URLs); links get ``rel=noopener`` and open in a new tab."""
    html = _MARKDOWN.render(markdown)
    cleaned: str = nh3.clean(html, url_schemes={"http", "https", "mailto", "tel"}, link_rel=None,
                             set_tag_attribute_values={"a": LINK_ATTRIBUTES})
    return cleaned


def plain_text(markdown: str) -> str:
    """An article as the bot says it: the rendered text without any markup, blank lines dropped."""
    text = html.unescape(nh3.clean(_MARKDOWN.render(markdown), tags=set()))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


class KnowledgeBase:
    def __init__(self, store: MongoKnowledgeStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    # -- categories --------------------------------------------------------------------------
    async def add_category(self, category_id: str, name: str) -> dict[str, Any]:
        check_slug(category_id, "category")
        cleaned = " ".join(name.split())
        if not 1 <= len(cleaned) <= MAX_NAME:
            raise InvalidInput(f"a category name has 1 to {MAX_NAME} characters")
        doc = {"_id": category_id, "name": cleaned, "created_at": self._clock.now()}
        await self._store.add_category(doc)
        return doc

    async def categories(self) -> list[dict[str, Any]]:
        return await self._store.categories()

    # -- articles ----------------------------------------------------------------------------
    async def save_article(self, draft: ArticleDraft, *, by: str, article_id: str | None = None) -> dict[str, Any]:
        """Create (``article_id`` None) or replace an article; InvalidInput for an unknown category
        or an intent another article of the same language answers already."""
        checked = check_article(draft)
        if not await self._store.category_exists(checked.category):
            raise InvalidInput(f"unknown category {checked.category!r}: create it first")
        if article_id is not None and await self._store.article(article_id) is None:
            raise NotFound("no such article")
        doc_id = article_id or new_id("kb")
        for intent in checked.intents:
            for other in await self._store.linked(intent):
                if other["_id"] != doc_id and other.get("language") == checked.language:
                    raise InvalidInput(f"intent {intent} is answered by article {other['_id']} already")
        doc = {"_id": doc_id, "title": checked.title, "body": checked.body, "html": render(checked.body),
               "category": checked.category, "language": checked.language, "intents": list(checked.intents),
               "terms": index_terms(f"{checked.title}\n{checked.body}"), "updated_at": self._clock.now(),
               "updated_by": by}
        await self._store.put_article(doc)
        return {k: v for k, v in doc.items() if k != "terms"}

    async def article(self, article_id: str) -> dict[str, Any]:
        doc = await self._store.article(article_id)
        if doc is None:
            raise NotFound("no such article")
        return {k: v for k, v in doc.items() if k != "terms"}

    async def delete_article(self, article_id: str) -> None:
        if not await self._store.delete_article(article_id):
            raise NotFound("no such article")

    async def search(self, query: str | None, category: str | None = None) -> list[dict[str, Any]]:
        """Articles holding every term of ``query`` (all of them without one), best first."""
        if category is not None:
            check_slug(category, "category")
        terms = query_terms(query) if query else None
        found = await self._store.find_articles(terms, category)
        if query:
            found.sort(key=lambda d: rank(query, d["title"], d["body"]), reverse=True)
        return found[:MAX_RESULTS]

    async def suggestions(self, intent: str) -> list[dict[str, Any]]:
        """The articles linked to ``intent`` (the handover card's intent), for the agent."""
        if not intent or len(intent) > 64:
            raise InvalidInput("give the intent (1 to 64 characters)")
        return await self._store.linked(intent)

    async def answer(self, *, intent: str, conversation: Conversation, text: str, language: str) -> str | None:
        """The bot's FAQ answer (``bot.service.IntentAnswers``): the linked article's text."""
        article = pick_answer(await self._store.linked(intent), language)
        return plain_text(article["body"]) if article else None

    # -- canned replies ----------------------------------------------------------------------
    async def save_canned(self, *, title: str, text: str, by: str, reply_id: str | None = None) -> dict[str, Any]:
        """A canned reply; InvalidInput (400) naming any variable that is not one of CANNED_VARIABLES."""
        cleaned_title = " ".join(title.split())
        if not 1 <= len(cleaned_title) <= MAX_NAME:
            raise InvalidInput(f"a title has 1 to {MAX_NAME} characters")
        variables = template_variables(text)
        if reply_id is not None and await self._store.canned(reply_id) is None:
            raise NotFound("no such canned reply")
        doc = {"_id": reply_id or new_id("cr"), "title": cleaned_title, "text": text, "variables": variables,
               "updated_at": self._clock.now(), "updated_by": by}
        await self._store.put_canned(doc)
        return doc

    async def delete_canned(self, reply_id: str) -> None:
        if not await self._store.delete_canned(reply_id):
            raise NotFound("no such canned reply")

    async def canned(self, query: str | None) -> list[dict[str, Any]]:
        """Canned replies holding every term of ``query`` (all without one), best first; few enough
        to filter here, demo ones (written without terms) included."""
        found = await self._store.all_canned()
        if query:
            terms = set(query_terms(query))
            found = [d for d in found if terms <= set(index_terms(f"{d['title']}\n{d['text']}"))]
            found.sort(key=lambda d: rank(query, d["title"], d["text"]), reverse=True)
        return found[:MAX_RESULTS]


def known_variables() -> list[str]:
    return sorted(CANNED_VARIABLES)


def article_line(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], "title": doc["title"], "category": doc["category"], "language": doc["language"],
            "intents": doc.get("intents", []), "updated_at": doc["updated_at"].isoformat()}
