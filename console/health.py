"""Health probes for load balancers and orchestrators: liveness and readiness."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from console.keys import HUB

logger = logging.getLogger(__name__)

routes = web.RouteTableDef()
PROBE_TIMEOUT_S = 2.0


@routes.get("/healthz")
async def live(request: web.Request) -> web.Response:
    """The process serves HTTP (touches no backing service)."""
    return web.json_response({"status": "ok"})


@routes.get("/readyz")
async def ready(request: web.Request) -> web.Response:
    """MongoDB and Redis both answer within the probe timeout and the bus is subscribed (a fact
    published before it is would reach no subscriber here, ADR 0060); 503 names what is not.

    ``loops`` lists the supervised background loops (name, state, attempt, class of the last
    error; never an error's message). They inform and do not decide readiness: a mailbox the
    process cannot reach does not stop it serving agents and customers."""
    hub = request.app[HUB]
    checks = {"mongo": hub.probes.mongo, "redis": hub.probes.redis, "bus": hub.probes.bus}
    results: dict[str, str] = {}
    for name, probe in checks.items():
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_S):
                await probe()
            results[name] = "ok"
        except Exception as err:  # a probe reports, it never raises
            logger.warning("health.%s.failed error=%s", name, type(err).__name__)
            results[name] = "unavailable"
    healthy = all(v == "ok" for v in results.values())
    loops = [status.to_json() for status in hub.probes.loops()]
    return web.json_response({"status": "ok" if healthy else "unavailable", "checks": results, "loops": loops},
                             status=200 if healthy else 503)
