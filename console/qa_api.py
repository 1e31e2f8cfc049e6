"""Call quality in the console (docs/api.md, "Call quality").

Supervisors and admins (403 for everyone else):

- ``GET /api/quality/rules``; ``PUT /api/quality/rules/{queue}`` ``{"rules": [...]}`` (400 naming
  every problem); ``DELETE /api/quality/rules/{queue}``. Queue ``*``: every queue without its own;
- ``GET /api/quality/flagged[?unreviewed=1]``: flagged calls, newest first, each with the rules that
  fired and the moments to jump to in the player (the call's recording URL);
- ``GET /api/quality/search?q=``: calls whose transcript contains ``q``;
- ``POST /api/quality/calls/{recording}/review`` ``{"score", "note", "confirmed"}``;
- ``GET /api/quality/status``: the job queue's backlog.

``GET /api/conversations/{id}/quality``: the transcripts and scores of a conversation's calls, for
whoever may hear its recordings (the same rule as console/calls_api.py's recordings).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from console.api import body, require_supervisor
from console.auth import AGENT_KEY
from console.errors import api_error
from console.keys import HUB, QUALITY
from hub.clock import iso
from hub.domain.quality import MAX_RULES, Rule, RuleKind, Speaker
from hub.quality import QualityDesk
from hub.storage.database import Document
from hub.storage.quality import rules_json

routes = web.RouteTableDef()
MAX_QUERY = 100


class RuleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=40)
    kind: RuleKind
    points: int = Field(10, ge=0, le=100)
    negate: bool = False
    speaker: Speaker | None = None
    phrases: list[str] = Field(default_factory=list, max_length=50)
    from_ms: int = Field(0, ge=0)
    to_ms: int | None = Field(None, gt=0)
    longer_than_ms: int = Field(0, ge=0)

    def rule(self) -> Rule:
        return Rule(name=self.name, kind=self.kind, points=self.points, negate=self.negate, speaker=self.speaker,
                    phrases=tuple(self.phrases), from_ms=self.from_ms, to_ms=self.to_ms,
                    longer_than_ms=self.longer_than_ms)


class RuleSetBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[RuleBody] = Field(max_length=MAX_RULES)


class ReviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=0, le=100)
    note: str = Field("", max_length=2000)
    confirmed: list[str] = Field(default_factory=list, max_length=50)


def add_quality_routes(app: web.Application, desk: QualityDesk) -> None:
    """Called by the composition root."""
    app[QUALITY] = desk
    app.add_routes(routes)


def supervisor(request: web.Request) -> QualityDesk:
    require_supervisor(request[AGENT_KEY])
    return request.app[QUALITY]


@routes.get("/api/quality/rules")
async def get_rules(request: web.Request) -> web.Response:
    sets = await supervisor(request).store.rule_sets()
    return web.json_response({"rule_sets": [{"queue": queue, "rules": rules_json(rule_set.rules)}
                                            for queue, rule_set in sorted(sets.items())]})


@routes.put("/api/quality/rules/{queue}")
async def put_rules(request: web.Request) -> web.Response:
    desk = supervisor(request)
    data = await body(request, RuleSetBody)
    stored = await desk.put_rules(request.match_info["queue"], [r.rule() for r in data.rules],
                                  by=request[AGENT_KEY].id)
    return web.json_response({"queue": stored.queue, "rules": rules_json(stored.rules)})


@routes.delete("/api/quality/rules/{queue}")
async def delete_rules(request: web.Request) -> web.Response:
    if not await supervisor(request).store.delete_rule_set(request.match_info["queue"]):
        raise api_error(404, "not_found", "this queue has no rule set")
    return web.json_response({"deleted": request.match_info["queue"]})


@routes.get("/api/quality/flagged")
async def get_flagged(request: web.Request) -> web.Response:
    desk = supervisor(request)
    docs = await desk.store.flagged(unreviewed=request.query.get("unreviewed") in ("1", "true"))
    return web.json_response({"calls": [result_json(d) for d in docs]})


@routes.get("/api/quality/search")
async def get_search(request: web.Request) -> web.Response:
    desk = supervisor(request)
    text = request.query.get("q", "").strip()
    if not 1 <= len(text) <= MAX_QUERY:
        raise api_error(400, "invalid_input", f"q: 1 to {MAX_QUERY} characters")
    return web.json_response({"calls": [result_json(d) for d in await desk.store.search(text)]})


@routes.post("/api/quality/calls/{recording}/review")
async def post_review(request: web.Request) -> web.Response:
    desk = supervisor(request)
    data = await body(request, ReviewBody)
    doc = await desk.review(request.match_info["recording"], score=data.score, note=data.note,
                            confirmed=data.confirmed, by=request[AGENT_KEY].id)
    return web.json_response({"call": result_json(doc)})


@routes.get("/api/quality/status")
async def get_status(request: web.Request) -> web.Response:
    return web.json_response({"jobs": await supervisor(request).store.job_counts()})


@routes.get("/api/conversations/{id}/quality")
async def get_conversation_quality(request: web.Request) -> web.Response:
    hub, agent = request.app[HUB], request[AGENT_KEY]
    _, sight = await hub.desk.look(agent, request.match_info["id"])  # 403 unless hub.domain.visibility
    if not sight.notes:
        raise api_error(403, "forbidden", "only the agent who took this call, supervisors and admins hear it")
    docs = await request.app[QUALITY].store.results_of(request.match_info["id"])
    return web.json_response({"calls": [result_json(d, transcript=True) for d in docs]})


def result_json(doc: Document, *, transcript: bool = False) -> dict[str, Any]:
    """One scored recording; ``player``: where its legs play (console/calls_api.py's recordings)."""
    base = f"/api/conversations/{doc['conversation_id']}/recordings/{doc['_id']}"
    out: dict[str, Any] = {
        "recording": doc["_id"], "conversation_id": doc["conversation_id"], "call_id": doc["call_id"],
        "queue": doc.get("queue"), "ended_at": iso(doc.get("ended_at")), "duration_ms": doc.get("duration_ms"),
        "score": doc.get("score"), "flagged": bool(doc.get("flagged")), "hits": doc.get("hits", []),
        "review": _review_json(doc.get("review")),
        "player": {leg: f"{base}/{leg}" for leg in ("mix", "agent", "caller")},
    }
    if transcript:
        out["transcript"] = {speaker: [{"text": w[0], "start_ms": w[1], "end_ms": w[2]} for w in leg.get("words", [])]
                             for speaker, leg in (doc.get("legs") or {}).items()}
    return out


def _review_json(review: dict[str, Any] | None) -> dict[str, Any] | None:
    if not review:
        return None
    return {**review, "at": iso(review.get("at"))}

