"""Teams: groups of agents under a team leader, who sees them live (the CLI and the admin API).

A team's leader has the role ``team_leader``; its members are agents or team leaders, each in at
most one team (a team leader's figures and live view have one answer per agent). What a team
leader may see of conversations is ``hub.domain.visibility``'s; of the live overview and the
agent states, her team's members only (``team_only``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from hub.domain.ids import AgentId, Role
from hub.domain.model import Agent, Team
from hub.domain.visibility import SEES_EVERYTHING
from hub.errors import Forbidden, InvalidInput
from hub.ports import Directory

MEMBER_ROLES = frozenset({Role.AGENT, Role.TEAM_LEADER})
WATCHES_AGENTS = SEES_EVERYTHING | {Role.TEAM_LEADER}  # the supervisor page and the agent states


def watched_agents(viewer: Agent) -> frozenset[AgentId] | None:
    """Whose live state and agent states ``viewer`` may see: None for everyone (supervisors and
    admins), her team's members for a team leader. Forbidden for the other roles."""
    if viewer.role in SEES_EVERYTHING:
        return None
    if viewer.role is Role.TEAM_LEADER:
        return viewer.leads
    raise Forbidden("supervisors, team leaders and admins only")


def team_only(viewer: Agent, agents: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The agent rows (``{"id": ...}``) of the overview that ``viewer`` may see."""
    watched = watched_agents(viewer)
    return list(agents) if watched is None else [a for a in agents if a["id"] in watched]


def team_json(team: Team, names: Mapping[AgentId, Agent]) -> dict[str, Any]:
    def person(agent_id: AgentId) -> dict[str, Any]:
        agent = names.get(agent_id)
        return {"id": agent_id, "username": agent.username if agent else None,
                "display_name": agent.display_name if agent else None}

    return {"id": team.id, "name": team.name, "leader": person(team.leader_id),
            "members": [person(m) for m in sorted(team.member_ids, key=lambda m: names[m].username
                                                  if m in names else m)]}


class TeamDesk:
    """Create, change and list teams, by usernames (the CLI, ``/api/teams``). Raises InvalidInput
    for an unknown person, a leader who is not a team leader, a member in another team."""

    def __init__(self, directory: Directory) -> None:
        self._directory = directory

    async def save(self, team_id: str, *, name: str, leader: str, members: Iterable[str]) -> Team:
        team_id, name = team_id.strip(), name.strip()
        if not team_id or not name:
            raise InvalidInput("a team needs an id and a name")
        by_name = {a.username: a for a in await self._directory.agents()}
        head = by_name.get(leader)
        if head is None or head.role is not Role.TEAM_LEADER:
            raise InvalidInput(f"the leader must be a team leader (role team_leader): {leader!r} is not")
        member_ids: set[AgentId] = set()
        for username in members:
            agent = by_name.get(username)
            if agent is None or agent.role not in MEMBER_ROLES or agent.id == head.id:
                raise InvalidInput(f"{username!r} cannot be a member: members are other agents or team leaders")
            member_ids.add(agent.id)
        for other in await self._directory.teams():
            taken = sorted(by_name_of(by_name, other.member_ids & member_ids))
            if other.id != team_id and taken:
                raise InvalidInput(f"already in team {other.id}: {', '.join(taken)}")
        team = Team(id=team_id, name=name, leader_id=head.id, member_ids=frozenset(member_ids))
        await self._directory.put_team(team)
        return team

    async def update(self, team_id: str, *, name: str | None = None, leader: str | None = None,
                     members: Iterable[str] | None = None) -> Team:
        """Change what is given; NotFound for an unknown team."""
        team = await self._directory.team(team_id)
        agents = {a.id: a for a in await self._directory.agents()}
        current_leader = agents[team.leader_id].username if team.leader_id in agents else ""
        current = [agents[m].username for m in team.member_ids if m in agents]
        return await self.save(team_id, name=name if name is not None else team.name,
                               leader=leader if leader is not None else current_leader,
                               members=members if members is not None else current)

    async def listing(self, viewer: Agent | None = None) -> list[dict[str, Any]]:
        """Every team (a team leader: hers), as ``team_json``."""
        agents = {a.id: a for a in await self._directory.agents()}
        teams = await self._directory.teams()
        if viewer is not None and viewer.role is Role.TEAM_LEADER:
            teams = [t for t in teams if t.leader_id == viewer.id]
        return [team_json(t, agents) for t in teams]


def by_name_of(by_name: Mapping[str, Agent], ids: Iterable[str]) -> list[str]:
    wanted = set(ids)
    return [username for username, agent in by_name.items() if agent.id in wanted]
