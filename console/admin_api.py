"""Administration in the console (docs/api.md, "Administration"): admins create and change agents
(skills, capacities, role, name), queues and wrap-up codes and read the audit trail; supervisors
and admins list agents and set an agent's status. Every change is audited (console.audit); changes
take effect without a restart: routing gets new skills and capacities at once (``Acd.refit``)."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator

from console.api import body, require_supervisor
from console.audit import AUDIT, audit
from console.auth import AGENT_KEY, SESSION_CACHE
from console.errors import api_error
from console.keys import HUB, LIVE
from console.teams_api import STATES, StatusBody, require_admin
from hub.admin import create_agent, create_queue
from hub.audit_trail import AuditTrail
from hub.domain.ids import CHANNELS, AgentStatus, Role
from hub.domain.model import Agent, Queue, WrapUpCode
from hub.passwords import MAX_PASSWORD_CHARS
from hub.wire import agent_json

routes = web.RouteTableDef()
Code = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[a-z0-9_-]+$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]
MAX_CAPACITY = 50
Day = Annotated[str, StringConstraints(max_length=3)]
Window = Annotated[str, StringConstraints(max_length=11)]


def check_capacity(capacity: dict[str, int] | None) -> dict[str, int] | None:
    if capacity is None:
        return None
    unknown = sorted(set(capacity) - set(CHANNELS))
    if unknown:
        raise ValueError(f"unknown channel {unknown[0][:20]!r}; channels: {', '.join(CHANNELS)}")
    if any(not 0 <= n <= MAX_CAPACITY for n in capacity.values()):
        raise ValueError(f"a capacity is between 0 and {MAX_CAPACITY}")
    return capacity


class NewAgentBody(BaseModel):
    username: str = Field(min_length=2, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$")
    display_name: Name
    role: Role = Role.AGENT
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_CHARS)
    skills: list[Code] = Field(default_factory=list, max_length=30)
    capacity: dict[str, int] = Field(default_factory=dict, max_length=len(CHANNELS))
    department: Code | None = None

    _capacity = field_validator("capacity")(check_capacity)


class AgentChange(BaseModel):
    display_name: Name | None = None
    role: Role | None = None
    skills: list[Code] | None = Field(None, max_length=30)
    capacity: dict[str, int] | None = Field(None, max_length=len(CHANNELS))

    _capacity = field_validator("capacity")(check_capacity)

    @model_validator(mode="after")
    def _something(self) -> AgentChange:
        if self.model_dump(exclude_none=True) == {}:
            raise ValueError("give display_name, role, skills or capacity")
        return self


class QueueBody(BaseModel):
    name: Name
    skills: list[Code] = Field(max_length=30)
    priority: int = Field(0, ge=0, le=100)
    # Weekly business hours, {"mon": "08:00-20:00"} (hub/domain/business_hours.py); {} always open,
    # absent: the queue keeps the hours it has.
    hours: dict[Day, Window] | None = Field(None, max_length=7)


class WrapUpBody(BaseModel):
    label: Name


async def find_agent(request: web.Request) -> Agent:
    agent = await request.app[HUB].directory.agent_by_username(request.match_info["username"])
    if agent is None:
        raise api_error(404, "not_found", "no such agent")
    return agent


@routes.get("/api/admin/agents")
async def get_agents(request: web.Request) -> web.Response:
    """Every account (supervisors set statuses from it; admins manage it)."""
    require_supervisor(request[AGENT_KEY])
    return web.json_response({"agents": [agent_json(a) for a in await request.app[HUB].directory.agents()]})


@routes.post("/api/agents")
async def post_agent(request: web.Request) -> web.Response:
    require_admin(request)
    data = await body(request, NewAgentBody)
    capacity: dict[str, int] = {str(channel): data.capacity.get(channel, 0) for channel in CHANNELS}
    agent = await create_agent(request.app[HUB].directory, username=data.username, display_name=data.display_name,
                               role=data.role.value, password=data.password, skills=data.skills, capacity=capacity,
                               department=data.department)
    await audit(request, "agent.created", agent.username, after=agent_json(agent))
    return web.json_response({"agent": agent_json(agent)}, status=201)


@routes.patch("/api/agents/{username}")
async def patch_agent(request: web.Request) -> web.Response:
    require_admin(request)
    data, before = await body(request, AgentChange), await find_agent(request)
    fields = data.model_dump(exclude_none=True, mode="json")
    if "skills" in fields:
        fields["skills"] = sorted(set(fields["skills"]))
    if "capacity" in fields:
        fields["capacity"] = {**before.capacity, **fields["capacity"]}
    if before.id == request[AGENT_KEY].id and fields.get("role", Role.ADMIN.value) != Role.ADMIN.value:
        raise api_error(400, "invalid_input", "you cannot take your own admin role")
    if "role" in fields and (fields["role"] == Role.DEPARTMENT.value) != (before.department is not None):
        raise api_error(400, "invalid_input", "department users are made with their department (POST /api/agents)")
    hub = request.app[HUB]
    await hub.directory.update_agent(before.id, fields)
    after = await hub.directory.agent(before.id)
    await hub.acd.refit(after)  # routing's copy of her skills and capacities, when she is present
    request.app[LIVE].update_agent(after)
    request.app[SESSION_CACHE].forget_agent(after.id)  # a role change applies to her next request here
    await audit(request, "agent.changed", after.username, before=agent_json(before), after=agent_json(after))
    return web.json_response({"agent": agent_json(after)})


@routes.post("/api/agents/{username}/status")
async def post_agent_status(request: web.Request) -> web.Response:
    """A supervisor sets an agent available, away, offline or paused (with a configured reason)."""
    require_supervisor(request[AGENT_KEY])
    data, before = await body(request, StatusBody), await find_agent(request)
    if before.disabled and data.status is not AgentStatus.OFFLINE:
        raise api_error(409, "account_disabled", "a disabled account stays offline")
    after = await request.app[STATES].change(before.id, data.status, data.reason)
    request.app[LIVE].update_agent(after)
    request.app[SESSION_CACHE].forget_agent(after.id)
    await audit(request, "agent.status", after.username, before={"status": before.status.value,
                "pause_reason": before.pause_reason}, after={"status": after.status.value,
                "pause_reason": after.pause_reason})
    return web.json_response({"agent": agent_json(after)})


@routes.put("/api/queues/{id}")
async def put_queue(request: web.Request) -> web.Response:
    """Create or change a queue; conversations already waiting keep the skills they were queued with."""
    require_admin(request)
    queue_id = request.match_info["id"]
    if not (0 < len(queue_id) <= 50 and queue_id.replace("_", "").replace("-", "").isalnum() and queue_id.isascii()):
        raise api_error(400, "invalid_input", "a queue id is letters, digits, - and _ (at most 50)")
    data = await body(request, QueueBody)
    directory = request.app[HUB].directory
    before = next((q for q in await directory.queues() if q.id == queue_id), None)
    hours = data.hours if data.hours is not None else dict(before.hours) if before else {}
    queue = await create_queue(directory, queue_id=queue_id, name=data.name, skills=data.skills,
                               priority=data.priority, hours=hours)  # 400 for malformed hours
    await audit(request, "queue.saved", queue_id, before=queue_json(before) if before else None,
                after=queue_json(queue))
    return web.json_response({"queue": queue_json(queue)})


def queue_json(queue: Queue) -> dict[str, object]:
    return {"id": queue.id, "name": queue.name, "skills": sorted(queue.skills), "priority": queue.priority,
            "hours": dict(queue.hours)}


@routes.put("/api/wrap_up_codes/{code}")
async def put_wrap_up_code(request: web.Request) -> web.Response:
    require_admin(request)
    code = request.match_info["code"]
    if not (0 < len(code) <= 50 and code.isascii() and code.replace("_", "").replace("-", "").isalnum()):
        raise api_error(400, "invalid_input", "a wrap-up code is letters, digits, - and _ (at most 50)")
    data = await body(request, WrapUpBody)
    directory = request.app[HUB].directory
    before = next((c for c in await directory.wrap_up_codes() if c.code == code), None)
    await directory.put_wrap_up_code(WrapUpCode(code=code, label=data.label))
    await audit(request, "wrap_up_code.saved", code, before={"label": before.label} if before else None,
                after={"label": data.label})
    return web.json_response({"code": {"code": code, "label": data.label}})


@routes.delete("/api/wrap_up_codes/{code}")
async def delete_wrap_up_code(request: web.Request) -> web.Response:
    """Agents can no longer choose it; conversations wrapped up with it keep it (404 unknown)."""
    require_admin(request)
    code = request.match_info["code"]
    directory = request.app[HUB].directory
    before = next((c for c in await directory.wrap_up_codes() if c.code == code), None)
    if before is None or not await directory.delete_wrap_up_code(code):
        raise api_error(404, "not_found", "no such wrap-up code")
    await audit(request, "wrap_up_code.deleted", code, before={"label": before.label})
    return web.json_response({"deleted": code})


@routes.get("/api/audit")
async def get_audit(request: web.Request) -> web.Response:
    """The administration's audit trail, the newest first (``?limit=``, at most 500)."""
    require_admin(request)
    try:
        limit = int(request.query.get("limit", "200"))
    except ValueError:
        raise api_error(400, "invalid_input", "limit must be a number") from None
    if not 0 < limit <= 500:
        raise api_error(400, "invalid_input", "limit is between 1 and 500")
    return web.json_response({"entries": await request.app[AUDIT].listing(limit)})


def add_admin_routes(app: web.Application, trail: AuditTrail) -> None:
    """Called by the composition root after ``add_team_routes`` (it uses the agent states)."""
    app[AUDIT] = trail
    app.add_routes(routes)
