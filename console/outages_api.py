"""Outages and their SMS notices in the console (docs/api.md, "Outage notices"): supervisors and
admins record outages, restorations, contacts' areas and start notices; every console user reads."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, Field

from console.api import body
from console.audit import audit
from console.auth import AGENT_KEY
from console.errors import api_error
from hub.domain.ids import Role
from hub.domain.outages import NoticeKind
from hub.outages import OutageDesk

routes = web.RouteTableDef()
OUTAGES = web.AppKey("outages", OutageDesk)
EDITORS = frozenset({Role.SUPERVISOR, Role.ADMIN})


class OutageBody(BaseModel):
    area: str = Field(min_length=1, max_length=80)
    cause: str = Field(min_length=1, max_length=300)
    start: AwareDatetime
    expected_restoration: AwareDatetime


class RestoreBody(BaseModel):
    restored_at: AwareDatetime | None = None


class NoticeBody(BaseModel):
    kind: NoticeKind
    text: str | None = Field(None, min_length=1, max_length=480)


class AreaBody(BaseModel):
    area: str | None = Field(min_length=1, max_length=80)


def require_editor(request: web.Request) -> str:
    agent = request[AGENT_KEY]
    if agent.role not in EDITORS:
        raise api_error(403, "forbidden", "supervisors and admins manage outages")
    return agent.username


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def outage_json(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], "area": doc["area"], "cause": doc["cause"], "start": _iso(doc["start"]),
            "expected_restoration": _iso(doc["expected_restoration"]), "restored_at": _iso(doc.get("restored_at")),
            "created_by": doc.get("created_by")}


def notice_json(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A notice and its progress; ``text`` only where it was read (the listing leaves it out)."""
    return {"id": doc["_id"], "outage_id": doc["outage_id"], "kind": doc["kind"], "text": doc.get("text"),
            "state": doc["state"], "total": doc.get("total"), "counts": doc.get("counts", {}),
            "created_at": _iso(doc.get("created_at")), "done_at": _iso(doc.get("done_at")),
            "cancelled_at": _iso(doc.get("cancelled_at"))}


def _kind(request: web.Request) -> NoticeKind:
    try:
        return NoticeKind(request.match_info["kind"])
    except ValueError:
        raise api_error(400, "invalid_input", "kind is outage or restored") from None


@routes.get("/api/outages")
async def get_outages(request: web.Request) -> web.Response:
    """``?active=1``: the outages not restored yet."""
    active = request.query.get("active", "0")
    if active not in ("0", "1"):
        raise api_error(400, "invalid_input", "active is 0 or 1")
    desk = request.app[OUTAGES]
    docs = await desk.listing(active_only=active == "1")
    notices = await desk.notices_of([d["_id"] for d in docs])
    return web.json_response({"outages": [
        {**outage_json(d), "notices": [notice_json(n) for n in notices if n["outage_id"] == d["_id"]]} for d in docs]})


@routes.post("/api/outages")
async def post_outage(request: web.Request) -> web.Response:
    by = require_editor(request)
    data = await body(request, OutageBody)
    doc = await request.app[OUTAGES].record(area=data.area, cause=data.cause, start=data.start,
                                            expected_restoration=data.expected_restoration, by=by)
    await audit(request, "outage.recorded", doc["_id"], after=outage_json(doc))
    return web.json_response({"outage": outage_json(doc)}, status=201)


@routes.get("/api/outages/{id}")
async def get_outage(request: web.Request) -> web.Response:
    return web.json_response({"outage": outage_json(await request.app[OUTAGES].outage(request.match_info["id"]))})


@routes.post("/api/outages/{id}/restore")
async def post_restore(request: web.Request) -> web.Response:
    require_editor(request)
    data = await body(request, RestoreBody)
    doc = await request.app[OUTAGES].restore(request.match_info["id"], data.restored_at)
    await audit(request, "outage.restored", doc["_id"], after=outage_json(doc))
    return web.json_response({"outage": outage_json(doc)})


@routes.post("/api/outages/{id}/notices")
async def post_notice(request: web.Request) -> web.Response:
    """Start the SMS notice (``kind`` outage or restored) to every contact of the area: 202."""
    by = require_editor(request)
    data = await body(request, NoticeBody)
    doc = await request.app[OUTAGES].start_notice(request.match_info["id"], data.kind, data.text, by=by)
    await audit(request, "outage.notice_started", request.match_info["id"], after={"kind": data.kind.value})
    return web.json_response({"notice": notice_json(doc)}, status=202)


@routes.get("/api/outages/{id}/notices/{kind}")
async def get_notice(request: web.Request) -> web.Response:
    """A notice's progress: its state and how many SMS are in each state."""
    notice = await request.app[OUTAGES].notice(request.match_info["id"], _kind(request))
    return web.json_response({"notice": notice_json(notice)})


@routes.post("/api/outages/{id}/notices/{kind}/cancel")
async def post_cancel_notice(request: web.Request) -> web.Response:
    """Stop a notice being prepared or sent (409 once done or cancelled)."""
    by = require_editor(request)
    kind = _kind(request)
    notice = await request.app[OUTAGES].cancel_notice(request.match_info["id"], kind, by=by)
    await audit(request, "outage.notice_cancelled", request.match_info["id"],
                after={"kind": kind.value, "submitted": notice["counts"].get("submitted", 0)})
    return web.json_response({"notice": notice_json(notice)})


@routes.put("/api/contacts/{id}/area")
async def put_contact_area(request: web.Request) -> web.Response:
    """The area a contact lives in (whom an outage notice reaches); ``null`` clears it."""
    require_editor(request)
    data = await body(request, AreaBody)
    await request.app[OUTAGES].set_area(request.match_info["id"], data.area)
    await audit(request, "contact.area_set", request.match_info["id"], after={"area": data.area})
    return web.json_response({"contact": request.match_info["id"], "area": data.area})


def add_outage_routes(app: web.Application, outages: OutageDesk) -> None:
    app[OUTAGES] = outages
    app.add_routes(routes)
