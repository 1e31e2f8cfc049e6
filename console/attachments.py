"""Downloading a stored attachment from the console: ``GET /api/attachments/{id}``.

Only an agent who may view the attachment's conversation gets it (401 without a session, 403
for another agent's conversation, 404 for an unknown id). A download, never rendered inline:
``Content-Disposition: attachment`` with ``nosniff``, and types a browser would run (HTML, SVG,
XML) are served as opaque bytes.

``?inline=1`` is the timeline's image preview: only a file whose bytes are a PNG, JPEG, GIF or
WebP image (``sniff``, never the declared type) is served inline, as that type, under a CSP that
lets it run nothing; anything else is ``415``.
"""

from __future__ import annotations

from aiohttp import web

from console.auth import AGENT_KEY
from console.errors import api_error
from console.keys import HUB
from hub.domain.file_types import IMAGES, disposition, download_type, sniff

routes = web.RouteTableDef()


@routes.get("/api/attachments/{id}")
async def get_attachment(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    stored = await hub.attachments.file(request.match_info["id"])
    if stored is None:
        raise api_error(404, "not_found", "no such attachment")
    await hub.desk.view(request[AGENT_KEY], stored.conversation_id)  # Forbidden -> 403
    inline = request.query.get("inline", "0")
    if inline not in ("0", "1"):
        raise api_error(400, "invalid_input", "inline is 0 or 1")
    if inline == "1":
        kind = sniff(stored.data)
        if kind not in IMAGES:
            raise api_error(415, "not_an_image", "only PNG, JPEG, GIF and WebP images are shown inline")
        return web.Response(body=stored.data, headers={
            "Content-Type": kind, "Content-Disposition": "inline", "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox", "Cache-Control": "private, max-age=3600"})
    return web.Response(body=stored.data, headers={
        "Content-Type": download_type(stored.content_type),
        "Content-Disposition": disposition(stored.filename or "attachment"),
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})
