"""The aiohttp application: middlewares, the console's routes and pages, and the channels' routes."""

from __future__ import annotations

from aiohttp import web

from console import api, attachments, health, ws
from console.auth import SESSION_CACHE, SessionCache
from console.errors import error_middleware
from console.httpserver import name_server
from console.keys import HUB, LIVE
from console.live import ConsoleLive
from console.pages import add_page_routes, security_headers
from console.socket_sessions import SOCKET_SESSIONS, SocketSessions
from hub.context import HubContext

MAX_REQUEST_BYTES = 1024**2


def init_app(hub: HubContext, live: ConsoleLive) -> web.Application:
    """Build the web application; channel routes are added by the composition root."""
    app = web.Application(middlewares=[security_headers, error_middleware, api.session_middleware],
                          client_max_size=MAX_REQUEST_BYTES)
    app.on_response_prepare.append(name_server)
    app[HUB] = hub
    app[LIVE] = live
    app[SESSION_CACHE] = SessionCache()
    app[SOCKET_SESSIONS] = SocketSessions(hub, app[SESSION_CACHE])
    app.add_routes(api.routes)
    app.add_routes(attachments.routes)
    app.add_routes(ws.routes)
    app.add_routes(health.routes)
    add_page_routes(app)
    return app
