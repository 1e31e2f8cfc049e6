"""Static pages and assets of the console and the web-chat widget, with strict security headers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from console.auth import authenticate
from hub.domain.ids import Role
from hub.domain.visibility import figures_sight

STATIC = Path(__file__).parent / "static"
CONSOLE_PAGES = {"/console/login": "login.html", "/console/": "index.html", "/console/supervisor": "supervisor.html",
                 "/console/quality": "quality.html"}  # its API is for supervisors and admins (console/qa_api.py)

# No inline script or style anywhere: whatever a customer types can never execute.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if not request.path.startswith("/webchat/widget"):
        # The widget script and its stylesheet are embedded by other sites; everything else is ours.
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def page(path: Path) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

    return handler


def supervisors_page(path: Path) -> Handler:
    """A page for those who may read figures (supervisors, admins, team leaders: ``figures_sight``),
    checked here as well as by its script: without a
    session the browser goes to the login page, any other role gets 403 (the wallboard hangs
    unattended on a wall, so it must not show even its empty frame to the wrong login; the reports
    page likewise)."""
    async def handler(request: web.Request) -> web.StreamResponse:
        try:
            agent, _ = await authenticate(request)
        except web.HTTPUnauthorized:
            raise web.HTTPFound("/console/login") from None
        if not figures_sight(agent).visible:  # a team leader's board shows her team (docs/kpis.md)
            raise web.HTTPForbidden(text="This page is for supervisors, team leaders and admins.\n")
        return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

    return handler


def roles_page(path: Path, roles: frozenset[Role]) -> Handler:
    """A page for some roles only: without a session the login page, any other role 403."""
    async def handler(request: web.Request) -> web.StreamResponse:
        try:
            agent, _ = await authenticate(request)
        except web.HTTPUnauthorized:
            raise web.HTTPFound("/console/login") from None
        if agent.role not in roles:
            raise web.HTTPForbidden(text="This page is for supervisors and admins.\n")
        return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

    return handler


async def redirect_to_console(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/console/")


async def widget_asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in {"widget.js", "widget.css", "demo.css"}:
        raise web.HTTPNotFound()
    headers = {"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"}
    return web.FileResponse(STATIC / "webchat" / name, headers=headers)


def add_page_routes(app: web.Application) -> None:
    app.router.add_get("/", redirect_to_console)
    app.router.add_get("/console", redirect_to_console)
    for path, name in CONSOLE_PAGES.items():
        app.router.add_get(path, page(STATIC / "console" / name))
    app.router.add_get("/console/wallboard", supervisors_page(STATIC / "console" / "wallboard.html"))
    app.router.add_get("/console/reports", supervisors_page(STATIC / "console" / "reports.html"))
    app.router.add_get("/console/admin", roles_page(STATIC / "console" / "admin.html",
                                                    frozenset({Role.ADMIN, Role.SUPERVISOR})))
    app.router.add_static("/console/static/", STATIC / "console", append_version=False)
    app.router.add_static("/console/vendor/", STATIC / "vendor", append_version=False)
    app.router.add_get("/webchat/demo", page(STATIC / "webchat" / "demo.html"))
    app.router.add_get(r"/webchat/{name:[a-z]+\.(?:js|css)}", widget_asset)
