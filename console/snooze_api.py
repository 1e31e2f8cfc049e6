"""Snooze (docs/api.md, "Snooze"; issue 16 item 2, ADR 0049): set a conversation one holds aside
until a time, or wake it by hand. Session and CSRF are the console middleware's; who may is
``hub.snoozes.Snoozing``'s rule (the agent holding it, or a supervisor)."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from pydantic import BaseModel, Field

from console.api import body, conversation_answer
from console.auth import AGENT_KEY
from hub.snoozes import Snoozing

SNOOZING = web.AppKey("snoozing", Snoozing)
routes = web.RouteTableDef()


class SnoozeBody(BaseModel):
    preset: str | None = Field(default=None, min_length=1, max_length=20)  # "1h" or "tomorrow"
    until: datetime | None = None  # ISO 8601 with an offset


def add_snooze_routes(app: web.Application, snoozing: Snoozing) -> None:
    """Called by the composition root, next to the console's own routes."""
    app[SNOOZING] = snoozing
    app.add_routes(routes)


@routes.post("/api/conversations/{id}/snooze")
async def post_snooze(request: web.Request) -> web.Response:
    data = await body(request, SnoozeBody)
    conversation = await request.app[SNOOZING].snooze(request[AGENT_KEY], request.match_info["id"],
                                                      preset=data.preset, at=data.until)
    return await conversation_answer(request, conversation.id)


@routes.post("/api/conversations/{id}/wake")
async def post_wake(request: web.Request) -> web.Response:
    conversation = await request.app[SNOOZING].wake_by_hand(request[AGENT_KEY], request.match_info["id"])
    return await conversation_answer(request, conversation.id)
