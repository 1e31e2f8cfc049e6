"""The knowledge base and canned replies in the console (docs/api.md, "Knowledge base"): every
console user reads; supervisors and admins write. Handlers: authenticate (middleware), check the
role, parse, call, answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from console.api import body
from console.audit import audit
from console.auth import AGENT_KEY
from console.errors import api_error
from hub.domain.ids import Role
from hub.domain.knowledge import ArticleDraft, used_variables
from hub.knowledge import KnowledgeBase, article_line, known_variables, plain_text

routes = web.RouteTableDef()
KNOWLEDGE = web.AppKey("knowledge", KnowledgeBase)
EDITORS = frozenset({Role.SUPERVISOR, Role.ADMIN})


class CategoryBody(BaseModel):
    id: str = Field(min_length=1, max_length=63)
    name: str = Field(min_length=1, max_length=100)


class ArticleBody(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=50_000)
    category: str = Field(min_length=1, max_length=63)
    language: str = Field("zh", min_length=2, max_length=2)
    intents: list[str] = Field(default_factory=list, max_length=20)


class CannedBody(BaseModel):
    title: str = Field(min_length=1, max_length=100)
    text: str = Field(min_length=1, max_length=2_000)


def require_editor(request: web.Request) -> str:
    agent = request[AGENT_KEY]
    if agent.role not in EDITORS:
        raise api_error(403, "forbidden", "supervisors and admins edit the knowledge base")
    return agent.username


def draft(data: ArticleBody) -> ArticleDraft:
    return ArticleDraft(title=data.title, body=data.body, category=data.category, language=data.language,
                        intents=tuple(data.intents))


def article_json(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The whole article: ``html`` is sanitised already (hub.knowledge.render); ``text`` is what the
    bot says and the console shows (no markup)."""
    return {**article_line(doc), "body": doc["body"], "html": doc["html"], "text": plain_text(doc["body"]),
            "updated_by": doc.get("updated_by")}


def canned_json(doc: Mapping[str, Any]) -> dict[str, Any]:
    updated = doc.get("updated_at")
    return {"id": doc["_id"], "title": doc["title"], "text": doc["text"], "variables": used_variables(doc["text"]),
            "updated_at": updated.isoformat() if updated else None}


def optional_query(request: web.Request, name: str) -> str | None:
    value = request.query.get(name, "").strip()
    return value or None


@routes.get("/api/knowledge/categories")
async def get_categories(request: web.Request) -> web.Response:
    docs = await request.app[KNOWLEDGE].categories()
    return web.json_response({"categories": [{"id": d["_id"], "name": d["name"]} for d in docs]})


@routes.post("/api/knowledge/categories")
async def post_category(request: web.Request) -> web.Response:
    require_editor(request)
    data = await body(request, CategoryBody)
    doc = await request.app[KNOWLEDGE].add_category(data.id, data.name)
    await audit(request, "knowledge_category.created", doc["_id"], after={"name": doc["name"]})
    return web.json_response({"category": {"id": doc["_id"], "name": doc["name"]}}, status=201)


@routes.get("/api/knowledge/articles")
async def get_articles(request: web.Request) -> web.Response:
    """``?q=`` searches (Chinese or English), ``?category=`` narrows."""
    found = await request.app[KNOWLEDGE].search(optional_query(request, "q"), optional_query(request, "category"))
    return web.json_response({"articles": [article_line(d) for d in found]})


@routes.get("/api/knowledge/suggestions")
async def get_suggestions(request: web.Request) -> web.Response:
    """The articles for the handover card's intent (``?intent=``), shown beside the conversation."""
    found = await request.app[KNOWLEDGE].suggestions(request.query.get("intent", ""))
    return web.json_response({"articles": [article_json(d) for d in found]})


@routes.get("/api/knowledge/articles/{id}")
async def get_article(request: web.Request) -> web.Response:
    return web.json_response({"article": article_json(await request.app[KNOWLEDGE].article(request.match_info["id"]))})


@routes.post("/api/knowledge/articles")
async def post_article(request: web.Request) -> web.Response:
    by = require_editor(request)
    data = await body(request, ArticleBody)
    doc = await request.app[KNOWLEDGE].save_article(draft(data), by=by)
    await audit(request, "article.created", doc["_id"], after=article_line(doc))
    return web.json_response({"article": article_json(doc)}, status=201)


@routes.put("/api/knowledge/articles/{id}")
async def put_article(request: web.Request) -> web.Response:
    by = require_editor(request)
    data = await body(request, ArticleBody)
    doc = await request.app[KNOWLEDGE].save_article(draft(data), by=by, article_id=request.match_info["id"])
    await audit(request, "article.changed", doc["_id"], after=article_line(doc))
    return web.json_response({"article": article_json(doc)})


@routes.delete("/api/knowledge/articles/{id}")
async def delete_article(request: web.Request) -> web.Response:
    require_editor(request)
    await request.app[KNOWLEDGE].delete_article(request.match_info["id"])
    await audit(request, "article.deleted", request.match_info["id"])
    return web.json_response({"deleted": request.match_info["id"]})


@routes.get("/api/canned_replies")
async def get_canned(request: web.Request) -> web.Response:
    found = await request.app[KNOWLEDGE].canned(optional_query(request, "q"))
    return web.json_response({"canned_replies": [canned_json(d) for d in found], "variables": known_variables()})


@routes.post("/api/canned_replies")
async def post_canned(request: web.Request) -> web.Response:
    by = require_editor(request)
    data = await body(request, CannedBody)
    doc = await request.app[KNOWLEDGE].save_canned(title=data.title, text=data.text, by=by)
    await audit(request, "canned_reply.created", doc["_id"], after={"title": doc["title"], "text": doc["text"]})
    return web.json_response({"canned_reply": canned_json(doc)}, status=201)


@routes.put("/api/canned_replies/{id}")
async def put_canned(request: web.Request) -> web.Response:
    by = require_editor(request)
    data = await body(request, CannedBody)
    before = next((c for c in await request.app[KNOWLEDGE].canned(None) if c["_id"] == request.match_info["id"]), None)
    doc = await request.app[KNOWLEDGE].save_canned(title=data.title, text=data.text, by=by,
                                                   reply_id=request.match_info["id"])
    await audit(request, "canned_reply.changed", doc["_id"], after={"title": doc["title"], "text": doc["text"]},
                before={"title": before["title"], "text": before["text"]} if before else None)
    return web.json_response({"canned_reply": canned_json(doc)})


@routes.delete("/api/canned_replies/{id}")
async def delete_canned(request: web.Request) -> web.Response:
    require_editor(request)
    await request.app[KNOWLEDGE].delete_canned(request.match_info["id"])
    await audit(request, "canned_reply.deleted", request.match_info["id"])
    return web.json_response({"deleted": request.match_info["id"]})


def add_knowledge_routes(app: web.Application, knowledge: KnowledgeBase) -> None:
    app[KNOWLEDGE] = knowledge
    app.add_routes(routes)
