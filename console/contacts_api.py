"""The console's contact API (``/api/contacts*``, docs/api.md "Contacts"): one customer across channels.

Session and CSRF are the console middleware's, as for every ``/api/`` call. Who sees and changes
what is ``hub.domain.visibility``'s rule, applied by ``hub.contacts.ContactService``: supervisors
and admins every contact; agents the contacts of conversations they may see (and only those
conversations), changing one only while serving it; trainers none.
"""

from __future__ import annotations

import json
from collections.abc import Container, Mapping
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from console.api import body
from console.auth import AGENT_KEY
from console.errors import api_error
from console.keys import HUB
from hub.clock import iso
from hub.contact_values import ContactProfile, MergeResult, TimelinePage
from hub.contacts import ContactService
from hub.domain.contacts import IdentityTaken, MergeRefused, group_by_channel
from hub.wire import message_json, summary_json

CONTACTS = web.AppKey("contacts", ContactService)
DEFAULT_PAGE = 50
routes = web.RouteTableDef()


class IdentityBody(BaseModel):
    channel: str = Field(min_length=1, max_length=20)
    address: str = Field(min_length=1, max_length=300)


class MergeBody(BaseModel):
    other: str = Field(min_length=1, max_length=100)


class RenameBody(BaseModel):
    display_name: str = Field(min_length=1, max_length=200)


class AttributesBody(BaseModel):
    """Only the keys given change; null or "" clears one. Further checks: hub.domain.contact_details."""

    model_config = ConfigDict(extra="forbid")
    account_number: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=300)
    meter_id: str | None = Field(default=None, max_length=40)


def add_contact_routes(app: web.Application, contacts: ContactService) -> None:
    """Called by the composition root, next to the console's own routes."""
    app[CONTACTS] = contacts
    app.add_routes(routes)


@routes.get("/api/contacts")
async def get_contacts(request: web.Request) -> web.Response:
    found = await request.app[CONTACTS].search(request[AGENT_KEY], request.query.get("q", ""))
    return web.json_response({"contacts": [contact_line(doc) for doc in found]})


@routes.get("/api/contacts/{id}")
async def get_contact(request: web.Request) -> web.Response:
    profile = await request.app[CONTACTS].profile(request[AGENT_KEY], request.match_info["id"])
    return web.json_response({"contact": profile_json(profile)})


@routes.get("/api/contacts/{id}/timeline")
async def get_timeline(request: web.Request) -> web.Response:
    try:
        limit = int(request.query.get("limit", str(DEFAULT_PAGE)))
    except ValueError:
        raise api_error(400, "invalid_input", "limit must be a number") from None
    page = await request.app[CONTACTS].timeline(request[AGENT_KEY], request.match_info["id"],
                                                before=request.query.get("before") or None, limit=limit)
    return web.json_response(timeline_json(page, live=request.app[HUB].channels.live))


@routes.post("/api/contacts/{id}/identities")
async def post_identity(request: web.Request) -> web.Response:
    data = await body(request, IdentityBody)
    try:
        profile = await request.app[CONTACTS].link(request[AGENT_KEY], request.match_info["id"], data.channel,
                                                   data.address)
    except IdentityTaken as err:
        raise conflict(err.code, str(err), other_contact_id=err.owner) from None
    return web.json_response({"contact": profile_json(profile)})


@routes.post("/api/contacts/{id}/merge")
async def post_merge(request: web.Request) -> web.Response:
    data = await body(request, MergeBody)
    service = request.app[CONTACTS]
    try:
        result = await service.merge(request[AGENT_KEY], request.match_info["id"], data.other)
    except MergeRefused as err:
        raise api_error(err.status, err.code, str(err)) from None
    profile = await service.profile(request[AGENT_KEY], result.survivor)
    return web.json_response({"merge": merge_json(result), "contact": profile_json(profile)})


@routes.patch("/api/contacts/{id}")
async def patch_contact(request: web.Request) -> web.Response:
    data = await body(request, RenameBody)
    profile = await request.app[CONTACTS].rename(request[AGENT_KEY], request.match_info["id"], data.display_name)
    return web.json_response({"contact": profile_json(profile)})


@routes.patch("/api/contacts/{id}/attributes")
async def patch_attributes(request: web.Request) -> web.Response:
    data = await body(request, AttributesBody)
    changes = data.model_dump(exclude_unset=True)
    if not changes:
        raise api_error(400, "invalid_input", "give at least one of account_number, address, meter_id")
    profile = await request.app[CONTACTS].set_attributes(request[AGENT_KEY], request.match_info["id"], changes)
    return web.json_response({"contact": profile_json(profile)})


@routes.get("/api/contacts/{id}/audit")
async def get_audit(request: web.Request) -> web.Response:
    entries = await request.app[CONTACTS].audit(request[AGENT_KEY], request.match_info["id"])
    return web.json_response({"audit": [{"type": e["type"], "at": iso(e.get("at")), "actor": e.get("actor"),
                                         "contacts": e.get("contacts", []), "detail": e.get("detail", {})}
                                        for e in entries]})


def conflict(code: str, message: str, **extra: str) -> web.HTTPException:
    return web.HTTPConflict(text=json.dumps({"error": {"code": code, "message": message, **extra}}),
                            content_type="application/json")


# -- JSON shapes (docs/api.md) ---------------------------------------------------------------------

def contact_line(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], "display_name": doc.get("display_name", ""),
            "identities": group_by_channel(list(doc.get("identities", [])))}


def profile_json(profile: ContactProfile) -> dict[str, Any]:
    return {
        "id": profile.id, "display_name": profile.display_name, "identities": profile.identities,
        "open_conversation": summary_json(profile.open_conversation) if profile.open_conversation else None,
        "conversations": [conversation_line(c) for c in profile.conversations],
        "counts": profile.counts, "merged_from": profile.merged_from, "may_edit": profile.may_edit,
        "area": profile.area, "attributes": profile.attributes,
        "identity_labels": [{"channel": r.channel, "kind": r.kind, "label": r.label, "tag": r.tag}
                            for r in profile.readable],
        **({"redirected_from": profile.requested_id} if profile.requested_id != profile.id else {}),
    }


def conversation_line(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], "channel": doc["channel"], "state": doc["state"],
            "created_at": iso(doc.get("created_at")), "updated_at": iso(doc.get("updated_at")),
            "agent_id": doc.get("agent_id")}


def timeline_json(page: TimelinePage, *, live: Container[str]) -> dict[str, Any]:
    return {"contact_id": page.contact_id, "messages": [message_json(m, live=live) for m in page.messages],
            "conversations": [conversation_line(c) for c in page.conversations], "older": page.older}


def merge_json(result: MergeResult) -> dict[str, Any]:
    return {"survivor": result.survivor, "merged": result.merged, "already": result.already,
            "identities_moved": len(result.identities), "conversations_moved": result.conversations}
