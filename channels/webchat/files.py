"""The widget's downloads (ADR 0046): ``GET /webchat/attachments/{id}`` with the widget's own
credential in ``X-Visitor-Id`` and ``X-Visitor-Token`` (headers, so it never lands in a URL, a log
or the browser's history). 401 without a valid credential; 404 for an unknown file and for a file of
anyone else's conversation alike. Always a download, never rendered inline."""

from __future__ import annotations

from aiohttp import web

from channels.webchat import identity
from hub.domain.file_types import disposition, download_type
from hub.ports import CustomerFileAccess


class WidgetFiles:
    def __init__(self, *, secret: bytes, files: CustomerFileAccess) -> None:
        self._secret = secret
        self._files = files

    async def download(self, request: web.Request) -> web.Response:
        visitor = request.headers.get("X-Visitor-Id", "")
        token = request.headers.get("X-Visitor-Token", "")
        if not (visitor and token and identity.verify(self._secret, visitor, token)):
            return web.json_response({"error": {"code": "unauthorized", "message": "the widget's credential is missing"
                                                " or wrong"}}, status=401)
        stored = await self._files.of_customer("webchat", visitor, request.match_info["id"])
        if stored is None:
            return web.json_response({"error": {"code": "not_found", "message": "no such file"}}, status=404)
        return web.Response(body=stored.data, headers={
            "Content-Type": download_type(stored.content_type),
            "Content-Disposition": disposition(stored.filename or "attachment"),
            "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})
