"""Downloading a stored attachment from the console: ``GET /api/attachments/{id}``.

Only an agent who may view the attachment's conversation gets it (401 without a session, 403
for another agent's conversation, 404 for an unknown id). Always a download, never rendered
inline: ``Content-Disposition: attachment`` with ``nosniff``, and types a browser would run
(HTML, SVG, XML) are served as opaque bytes.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from aiohttp import web

from console.auth import AGENT_KEY
from console.errors import api_error
from console.keys import HUB

routes = web.RouteTableDef()
SAFE_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
ACTIVE_TYPES = ("text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/xml",
                "text/javascript", "application/javascript")


def download_type(content_type: str) -> str:
    kind = content_type.strip().lower()
    if not SAFE_TYPE.match(kind) or kind in ACTIVE_TYPES:
        return "application/octet-stream"
    return kind


def disposition(filename: str) -> str:
    """RFC 6266: an ASCII fallback name plus the UTF-8 name (Chinese file names survive)."""
    fallback = re.sub(r"[^A-Za-z0-9._-]", "_", filename)[:100] or "attachment"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@routes.get("/api/attachments/{id}")
async def get_attachment(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    stored = await hub.attachments.file(request.match_info["id"])
    if stored is None:
        raise api_error(404, "not_found", "no such attachment")
    await hub.desk.view(request[AGENT_KEY], stored.conversation_id)  # Forbidden -> 403
    return web.Response(body=stored.data, headers={
        "Content-Type": download_type(stored.content_type),
        "Content-Disposition": disposition(stored.filename or "attachment"),
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})
