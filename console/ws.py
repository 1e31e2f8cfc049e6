"""The console WebSocket: authenticated by the session cookie, same-origin only, heartbeats = presence."""

from __future__ import annotations

import json
import logging
import secrets

from aiohttp import WSMsgType, web

from console.auth import COOKIE, authenticate
from console.errors import api_error
from console.keys import HUB, LIVE
from console.socket_sessions import SOCKET_SESSIONS
from hub.socket_writer import SocketWriter, abort_transport
from hub.wire import agent_json

logger = logging.getLogger(__name__)

routes = web.RouteTableDef()
MAX_FRAME = 4096


def check_origin(request: web.Request) -> None:
    """Browsers send cookies with cross-site WebSocket handshakes: only our own origin may connect."""
    origin = request.headers.get("Origin")
    http = request.app[HUB].settings.http
    allowed = {f"{request.scheme}://{request.host}", *http.allowed_origins}
    if http.public_url:  # behind a TLS-terminating proxy the browser's origin is the public one
        allowed.add(http.public_url.rstrip("/"))
    if origin is not None and origin not in allowed:
        raise api_error(403, "bad_origin", "this origin may not open the console socket")


@routes.get("/console/ws")
async def console_socket(request: web.Request) -> web.WebSocketResponse:
    check_origin(request)
    agent, _ = await authenticate(request)
    hub, live, sessions = request.app[HUB], request.app[LIVE], request.app[SOCKET_SESSIONS]
    ws = web.WebSocketResponse(heartbeat=25, max_msg_size=MAX_FRAME)
    await ws.prepare(request)
    http = hub.settings.http
    # Every write to this socket goes through its writer: a console that stops reading is
    # disconnected (it reconnects and reloads), never waited on by the fan-out.
    async with SocketWriter(ws, abort=lambda: abort_transport(request.transport), name=f"console:{agent.id}",
                            max_frames=http.ws_buffer_frames, send_timeout_s=http.ws_send_timeout_s) as writer:
        # The socket's id: the tab names it on the replies it posts, whose frames then skip it (ADR 0073).
        socket_id = secrets.token_urlsafe(12)
        writer.send({"type": "hello", "agent": agent_json(agent), "socket": socket_id})
        live.add(agent, writer, socket_id)
        sessions.add(writer, agent.id, request.cookies[COOKIE])  # checked again after a bus gap
        logger.info("console.ws.connected agent=%s", agent.id)
        try:
            await hub.acd.heartbeat(agent)
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                try:
                    frame = json.loads(msg.data)
                except (ValueError, RecursionError):  # not JSON, 4300+ digit integers, deep nesting
                    writer.send({"type": "error", "code": "bad_json", "message": "frames are JSON"})
                    continue
                if isinstance(frame, dict) and frame.get("type") == "heartbeat":
                    # Presence lives in Redis; the agent as this process knows her (kept current by
                    # her status changes) is used only when her presence has to be made again. A
                    # read per heartbeat was the quiet console's one cost in MongoDB (ADR 0032).
                    await hub.acd.heartbeat(live.agent(agent.id) or agent)
        finally:
            live.remove(agent, writer, socket_id)
            sessions.remove(writer)
            logger.info("console.ws.closed agent=%s too_slow=%s", agent.id, writer.too_slow)
    return ws
