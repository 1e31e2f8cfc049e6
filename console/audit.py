"""The audit trail as the console's handlers reach it: one call per administrative change."""

from __future__ import annotations

from aiohttp import web

from console.auth import AGENT_KEY
from hub.audit_trail import AuditTrail, Record

AUDIT = web.AppKey("audit", AuditTrail)


async def audit(request: web.Request, action: str, target: str, *, before: Record = None,
                after: Record = None) -> None:
    """Record the change the request's agent made (no-op in an app without the trail)."""
    trail = request.app.get(AUDIT)
    if trail is not None:
        await trail.record(request[AGENT_KEY], action, target, before=before, after=after)
