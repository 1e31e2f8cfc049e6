"""Find, take and hand on (docs/api.md, "Find, take and hand on"; issue 16 items 1 and 2): the
conversation lists with search and counts, labels, reopen, pick by hand, transfer to a queue or to
a named agent with a note, and the colleagues a transfer may name.

Session and CSRF are the console middleware's. Who sees which conversation is
``hub.domain.visibility``'s rule (``hub.finding``); taking and handing on are the ACD's atomic
claims (``routing.by_hand``).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from console.api import body, conversation_answer
from console.auth import AGENT_KEY
from console.errors import api_error
from console.keys import HUB
from hub.domain.finding import parse_filters
from hub.domain.text import invalid_text_path
from hub.domain.visibility import SERVES, sees_contacts
from hub.finding import ConversationFinder, HandOnDesk
from hub.wire import summary_json

FINDER = web.AppKey("finder", ConversationFinder)
HAND_ON: web.AppKey[HandOnDesk] = web.AppKey("hand_on")
QUERY_FIELDS = ("view", "queue", "channel", "label", "q")
routes = web.RouteTableDef()


class LabelBody(BaseModel):
    label: str = Field(min_length=1, max_length=100)


class TransferBody(BaseModel):
    queue: str | None = Field(default=None, min_length=1, max_length=100)
    agent: str | None = Field(default=None, min_length=1, max_length=100)
    note: str | None = Field(default=None, max_length=2000)


def add_find_routes(app: web.Application, finder: ConversationFinder, hand_on: HandOnDesk) -> None:
    """Called by the composition root, next to the console's own routes."""
    app[FINDER] = finder
    app[HAND_ON] = hand_on
    app.add_routes(routes)


def query_args(request: web.Request) -> dict[str, str | None]:
    """The list's query string; a value that is not valid Unicode is a 400."""
    args = {name: request.query.get(name) for name in QUERY_FIELDS}
    invalid = invalid_text_path({k: v for k, v in args.items() if v is not None})
    if invalid is not None or any(v is not None and "\ufffd" in v for v in args.values()):
        raise api_error(400, "invalid_text", f"{invalid or 'query'}: not valid Unicode")
    return args


@routes.get("/api/conversations")
async def get_conversations(request: web.Request) -> web.Response:
    agent = request[AGENT_KEY]
    if not sees_contacts(agent):
        raise api_error(403, "forbidden", "conversations are for agents, team leaders, supervisors and admins")
    filters = parse_filters(**query_args(request))
    found = await request.app[FINDER].find(agent, filters)
    return web.json_response({"conversations": [summary_json(d) for d in found["conversations"]],
                              "counts": found["counts"], "capped": found["capped"],
                              "view": filters.view.value})


@routes.get("/api/labels")
async def get_labels(request: web.Request) -> web.Response:
    if not sees_contacts(request[AGENT_KEY]):
        raise api_error(403, "forbidden", "labels are for agents, team leaders, supervisors and admins")
    return web.json_response({"labels": await request.app[FINDER].labels()})


@routes.post("/api/conversations/{id}/labels")
async def post_label(request: web.Request) -> web.Response:
    data = await body(request, LabelBody)
    labels = await request.app[FINDER].label(request[AGENT_KEY], request.match_info["id"], data.label, add=True)
    return web.json_response({"labels": labels})


@routes.delete("/api/conversations/{id}/labels/{label}")
async def delete_label(request: web.Request) -> web.Response:
    labels = await request.app[FINDER].label(request[AGENT_KEY], request.match_info["id"],
                                             request.match_info["label"], add=False)
    return web.json_response({"labels": labels})


@routes.post("/api/conversations/{id}/reopen")
async def post_reopen(request: web.Request) -> web.Response:
    conversation = await request.app[FINDER].reopen(request[AGENT_KEY], request.match_info["id"])
    return await conversation_answer(request, conversation.id)


@routes.post("/api/conversations/{id}/pick")
async def post_pick(request: web.Request) -> web.Response:
    conversation = await request.app[HAND_ON].pick(request[AGENT_KEY], request.match_info["id"])
    return await conversation_answer(request, conversation.id)


@routes.post("/api/conversations/{id}/transfer")
async def post_transfer(request: web.Request) -> web.Response:
    data = await body(request, TransferBody)
    if data.queue is None and data.agent is None:
        raise api_error(400, "invalid_input", "name a queue, an agent or both")
    conversation, offered_to = await request.app[HAND_ON].transfer(
        request[AGENT_KEY], request.match_info["id"], queue_id=data.queue, to_agent=data.agent, note=data.note)
    doc = await request.app[HUB].conversations.get_doc(conversation.id)
    return web.json_response({"conversation": summary_json(doc), "offered_to": offered_to})


@routes.get("/api/colleagues")
async def get_colleagues(request: web.Request) -> web.Response:
    """Who a transfer may name: agents and team leaders, with their status and skills."""
    if not sees_contacts(request[AGENT_KEY]):
        raise api_error(403, "forbidden", "for agents, team leaders, supervisors and admins")
    agents = await request.app[HUB].directory.agents()
    rows: list[dict[str, Any]] = [{"id": a.id, "display_name": a.display_name, "status": a.status.value,
                                   "skills": sorted(a.skills)}
                                  for a in agents if a.role in SERVES and not a.disabled]
    return web.json_response({"colleagues": sorted(rows, key=lambda r: r["display_name"])})
