"""Teams and agent states in the console (docs/api.md, "Teams and agent states"): an agent's
status change with a pause reason, the configured reasons, the recorded states with their
durations, and the admins' team management. Handlers: authenticate (middleware), parse, call, answer."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web
from pydantic import BaseModel, Field, model_validator

from console.api import body
from console.audit import audit
from console.auth import AGENT_KEY, SESSION_CACHE
from console.errors import api_error
from console.keys import HUB, LIVE
from hub.agent_states import AgentStates
from hub.domain.ids import AgentStatus, Role
from hub.teams import TeamDesk, watched_agents
from hub.wire import agent_json

routes = web.RouteTableDef()
STATES = web.AppKey("agent_states", AgentStates)
TEAMS = web.AppKey("teams", TeamDesk)
NAME = Field(min_length=1, max_length=100)


class StatusBody(BaseModel):
    status: AgentStatus
    reason: str | None = Field(None, min_length=1, max_length=100)


class TeamBody(BaseModel):
    id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = NAME
    leader: str = NAME  # a username
    members: list[str] = Field(default_factory=list, max_length=500)


class TeamChange(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=100)
    leader: str | None = Field(None, min_length=1, max_length=100)
    members: list[str] | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _something(self) -> TeamChange:
        if self.name is None and self.leader is None and self.members is None:
            raise ValueError("give name, leader or members")
        return self


def require_admin(request: web.Request) -> None:
    if request[AGENT_KEY].role is not Role.ADMIN:
        raise api_error(403, "forbidden", "admins only")


@routes.post("/api/me/status")
async def post_status(request: web.Request) -> web.Response:
    """Available, away, offline, or paused with one of the configured reasons."""
    agent, data = request[AGENT_KEY], await body(request, StatusBody)
    updated = await request.app[STATES].change(agent.id, data.status, data.reason)
    request.app[LIVE].update_agent(updated)
    request.app[SESSION_CACHE].forget_agent(agent.id)
    return web.json_response({"agent": agent_json(updated)})


@routes.get("/api/agent_states/reasons")
async def get_reasons(request: web.Request) -> web.Response:
    return web.json_response({"reasons": request.app[STATES].reasons_json()})


@routes.get("/api/agent_states")
async def get_agent_states(request: web.Request) -> web.Response:
    """The state spans of the last ``hours`` (default 24) with their durations; a team leader's team only."""
    agent = request[AGENT_KEY]
    watched_agents(agent)  # 403 for agents and trainers
    try:
        hours = float(request.query.get("hours", "24"))
    except ValueError:
        raise api_error(400, "invalid_input", "hours must be a number") from None
    if not 0 < hours <= 24 * 93:
        raise api_error(400, "invalid_input", "hours must be between 0 and 93 days")
    now = request.app[HUB].clock.now()
    return web.json_response(await request.app[STATES].report(agent, since=now - timedelta(hours=hours)))


@routes.get("/api/teams")
async def get_teams(request: web.Request) -> web.Response:
    agent = request[AGENT_KEY]
    watched_agents(agent)
    return web.json_response({"teams": await request.app[TEAMS].listing(agent)})


@routes.post("/api/teams")
async def post_team(request: web.Request) -> web.Response:
    require_admin(request)
    data = await body(request, TeamBody)
    desk = request.app[TEAMS]
    team = await desk.save(data.id, name=data.name, leader=data.leader, members=data.members)
    saved = next(t for t in await desk.listing() if t["id"] == team.id)
    await audit(request, "team.saved", team.id, after=saved)
    return web.json_response({"team": saved})


@routes.put("/api/teams/{id}")
async def put_team(request: web.Request) -> web.Response:
    require_admin(request)
    data = await body(request, TeamChange)
    desk = request.app[TEAMS]
    before = next((t for t in await desk.listing() if t["id"] == request.match_info["id"]), None)
    team = await desk.update(request.match_info["id"], name=data.name, leader=data.leader, members=data.members)
    saved = next(t for t in await desk.listing() if t["id"] == team.id)
    await audit(request, "team.changed", team.id, before=before, after=saved)
    return web.json_response({"team": saved})


def add_team_routes(app: web.Application, teams: TeamDesk, states: AgentStates) -> None:
    app[TEAMS] = teams
    app[STATES] = states
    app.add_routes(routes)
