"""The web chat's public availability and offline form (docs/api.md, "Web chat (customer)").

``GET /webchat/availability?queue=general`` tells the widget whether a queue is open now, whether
an agent is available, and when it opens; ``POST /webchat/offline`` takes the offline form (name, an
e-mail address or a phone number, a message) and queues it for a human (hub/conversations/offline.py).
No login, like the widget's socket: every request is rate limited per client address; the body is
JSON only (a cross-site HTML form cannot send it without the hub's consent), small, valid Unicode.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

from console.api import parse_body
from console.errors import api_error
from console.keys import HUB
from hub.client_address import client_address as address_of
from hub.client_address import parse_networks
from hub.customer_notices import CustomerNotices
from hub.domain.customer_notices import OfflineMessage
from hub.errors import NotFound
from hub.ports import OfflineForms, RateLimiter

logger = logging.getLogger(__name__)

NOTICES = web.AppKey("offline_notices", CustomerNotices)
INTAKE = web.AppKey("offline_intake", OfflineForms)
LIMITER = web.AppKey("offline_limiter", RateLimiter)
PER_MINUTE = web.AppKey("offline_per_minute", float)
MAX_BODY = 8 * 1024
QUEUE_ID = r"^[A-Za-z0-9_-]{1,40}$"
EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,189}\.[A-Za-z]{2,24}$")
PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{5,19}$")


class OfflineForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    email: Annotated[str, StringConstraints(max_length=254)] = ""
    phone: Annotated[str, StringConstraints(max_length=24)] = ""
    message: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    queue: Annotated[str, StringConstraints(pattern=QUEUE_ID)] | None = None
    language: Annotated[str, StringConstraints(pattern=r"^(en|zh)$")] = "en"

    @model_validator(mode="after")
    def _a_way_back(self) -> OfflineForm:
        if not self.email and not self.phone:
            raise ValueError("an e-mail address or a phone number is needed to answer")
        if self.email and not EMAIL.match(self.email):
            raise ValueError("email: not an e-mail address")
        if self.phone and not PHONE.match(self.phone):
            raise ValueError("phone: not a phone number")
        return self


def add_offline_routes(app: web.Application, notices: CustomerNotices, intake: OfflineForms,
                       limiter: RateLimiter, per_minute: float) -> None:
    app[NOTICES], app[INTAKE], app[LIMITER], app[PER_MINUTE] = notices, intake, limiter, per_minute
    app.router.add_get("/webchat/availability", availability)
    app.router.add_post("/webchat/offline", offline)


async def _limit(request: web.Request, kind: str, per_minute: float) -> None:
    trusted = parse_networks(request.app[HUB].settings.http.trusted_proxies)
    address = address_of(request.remote, request.headers.getall("X-Forwarded-For", []), trusted)
    if not await request.app[LIMITER].allow(f"webchat-{kind}:{address}", rate_per_s=per_minute / 60,
                                            burst=max(2.0, per_minute / 2)):
        raise api_error(429, "rate_limited", "too many requests; wait a minute")


def _queue_of(request: web.Request, asked: str | None) -> str:
    queue = asked or request.app[HUB].settings.webchat.default_queue
    if not re.match(QUEUE_ID, queue):
        raise api_error(400, "invalid_input", "queue: letters, digits, - and _ only")
    return queue


async def availability(request: web.Request) -> web.Response:
    await _limit(request, "availability", 60.0)
    queue = _queue_of(request, request.query.get("queue"))
    is_open, staffed, opens = await request.app[NOTICES].availability(queue)
    return web.json_response({"queue": queue, "open": is_open, "agents_available": staffed,
                              "opens_at": opens.isoformat() if opens else None})


async def offline(request: web.Request) -> web.Response:
    if request.content_type != "application/json":
        raise api_error(415, "unsupported_media_type", "send the form as application/json")
    if request.content_length is None or request.content_length > MAX_BODY:
        raise api_error(413, "too_large", f"the form is limited to {MAX_BODY} bytes")
    form = parse_body(await request.content.read(MAX_BODY + 1), OfflineForm)
    queue = _queue_of(request, form.queue)
    try:
        await request.app[HUB].directory.queue(queue)
    except NotFound:
        raise api_error(404, "not_found", f"no queue {queue}") from None
    await _limit(request, "offline", request.app[PER_MINUTE])  # what would be stored: forms refused cost nothing
    await request.app[INTAKE].take(OfflineMessage(
        name=form.name, email=form.email.lower() or None, phone=form.phone or None, text=form.message,
        queue=queue, language=form.language))
    return web.json_response({"queued": True}, status=201)  # no id: the form grants no reading
