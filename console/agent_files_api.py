"""An agent sends a file (docs/api.md, "Files from the agent"; issue 16 item 4, ADR 0046):
``POST /api/conversations/{id}/attachments``, multipart with a ``file`` part and an optional
``text`` part (a caption). Session and CSRF are the console middleware's; the size is capped while
reading (413 without reading more), the type is the bytes' (415), the rest is
``hub.conversations.agent_files.AgentFiles``'s rule."""

from __future__ import annotations

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from console.auth import AGENT_KEY
from console.errors import api_error
from console.keys import HUB, LIVE
from console.live import SOCKET_HEADER
from hub.domain.file_links import link_valid
from hub.domain.file_types import MAX_UPLOAD_BYTES, disposition, download_type
from hub.ports import AgentFileSender
from hub.wire import message_json

AGENT_FILES = web.AppKey("agent_files", AgentFileSender)
LINK_SECRET = web.AppKey("file_link_secret", bytes)
routes = web.RouteTableDef()
MAX_CAPTION_BYTES = 64 * 1024
MAX_REQUEST = MAX_UPLOAD_BYTES + MAX_CAPTION_BYTES + 16 * 1024  # the parts' headers and boundaries


def add_agent_file_routes(app: web.Application, files: AgentFileSender, secret: bytes) -> None:
    """Called by the composition root, next to the console's own routes."""
    app[AGENT_FILES] = files
    app[LINK_SECRET] = secret
    app.add_routes(routes)


def too_large() -> web.HTTPException:
    return api_error(413, "too_large", f"the file is over {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")


async def read_part(part: BodyPartReader, limit: int) -> bytes:
    data = bytearray()
    while chunk := await part.read_chunk(64 * 1024):
        data += chunk
        if len(data) > limit:
            raise too_large()
    return bytes(data)


@routes.post("/api/conversations/{id}/attachments")
async def post_attachment(request: web.Request) -> web.Response:
    if request.content_length is not None and request.content_length > MAX_REQUEST:
        raise too_large()
    if not request.content_type.startswith("multipart/form-data"):
        raise api_error(415, "unsupported_type", "send the file as multipart/form-data with a 'file' part")
    try:
        reader = await request.multipart()
    except (AssertionError, ValueError, KeyError):
        raise api_error(400, "bad_multipart", "the body is not valid multipart/form-data") from None
    filename, data, caption = "", None, ""
    try:
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise api_error(400, "bad_multipart", "nested multipart is not accepted")
            if part.name == "file" and data is None:
                filename = part.filename or "file"  # browsers send it as raw UTF-8
                data = await read_part(part, MAX_UPLOAD_BYTES)
            elif part.name == "text":
                raw = await read_part(part, MAX_CAPTION_BYTES)
                try:
                    caption = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise api_error(400, "invalid_text", "the caption is not valid UTF-8") from None
            else:
                await part.release()
    except (ValueError, HttpProcessingError):  # broken part headers, a truncated body
        raise api_error(400, "bad_multipart", "the body is not valid multipart/form-data") from None
    if data is None:
        raise api_error(400, "invalid_input", "no 'file' part")
    hub = request.app[HUB]
    agent = request[AGENT_KEY]
    message = await request.app[AGENT_FILES].send(agent, request.match_info["id"], filename=filename,
                                                  data=data, caption=caption)
    request.app[LIVE].posted(agent.id, request.headers.get(SOCKET_HEADER), message.id)  # ADR 0073
    return web.json_response({"message": message_json(message, live=hub.channels.live)}, status=201)


@routes.get("/files/{id}")
async def get_linked_file(request: web.Request) -> web.Response:
    """An agent's file by its signed link (SMS, Telegram): 403 for a link this hub did not sign or
    that expired, 404 for a file no longer stored. No session: the link is the credential."""
    hub, file_id = request.app[HUB], request.match_info["id"]
    if not link_valid(request.app[LINK_SECRET], file_id, request.query.get("e", ""), request.query.get("s", ""),
                      hub.clock.now()):
        raise api_error(403, "forbidden", "this link is not valid (or it expired)")
    stored = await hub.attachments.file(file_id)
    if stored is None:
        raise api_error(404, "not_found", "no such file")
    return web.Response(body=stored.data, headers={
        "Content-Type": download_type(stored.content_type),
        "Content-Disposition": disposition(stored.filename or "attachment"),
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})
