"""Agents, teams, queues, canned replies and wrap-up codes: the hub's configuration data in MongoDB."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from hub.domain.ids import AgentId, AgentStatus, QueueId, Role, Skill
from hub.domain.model import Agent, CannedReply, Department, Queue, Team, WrapUpCode
from hub.errors import InvalidInput, NotFound
from hub.storage.database import Db


def agent_from_doc(doc: Mapping[str, Any]) -> Agent:
    return Agent(
        id=AgentId(doc["_id"]), username=doc["username"], display_name=doc["display_name"],
        role=Role(doc["role"]), skills=frozenset(Skill(s) for s in doc.get("skills", ())),
        capacity=dict(doc.get("capacity", {})), password_hash=doc["password_hash"],
        status=AgentStatus(doc.get("status", "offline")), disabled=bool(doc.get("disabled", False)),
        pause_reason=doc.get("pause_reason"), status_since=doc.get("status_since"),
        department=doc.get("department"), language=doc.get("language"),
    )


def team_from_doc(doc: Mapping[str, Any]) -> Team:
    return Team(id=doc["_id"], name=doc["name"], leader_id=AgentId(doc["leader_id"]),
                member_ids=frozenset(AgentId(m) for m in doc.get("member_ids", ())))


def queue_from_doc(doc: Mapping[str, Any]) -> Queue:
    return Queue(id=QueueId(doc["_id"]), name=doc["name"], skills=frozenset(Skill(s) for s in doc["skills"]),
                 priority=int(doc.get("priority", 0)), hours=dict(doc.get("hours") or {}))


class MongoDirectory:
    """Read-mostly configuration; writes come from the CLI and the console's status changes."""

    def __init__(self, db: Db) -> None:
        self._agents = db["agents"]
        self._queues = db["queues"]
        self._canned = db["canned_replies"]
        self._codes = db["wrap_up_codes"]
        self._teams = db["teams"]
        self._departments = db["departments"]

    async def add_agent(self, agent: Agent) -> None:
        try:
            await self._agents.insert_one({
                "_id": agent.id, "username": agent.username, "display_name": agent.display_name,
                "role": agent.role.value, "skills": sorted(agent.skills), "capacity": dict(agent.capacity),
                "password_hash": agent.password_hash, "status": agent.status.value, "disabled": agent.disabled,
                **({"department": agent.department} if agent.department else {}),
            })
        except DuplicateKeyError as err:
            raise InvalidInput(f"agent {agent.username!r} already exists") from err

    async def update_agent(self, agent_id: str, fields: Mapping[str, Any]) -> None:
        result = await self._agents.update_one({"_id": agent_id}, {"$set": dict(fields)})
        if result.matched_count == 0:
            raise NotFound(f"no agent {agent_id}")

    async def set_status(self, agent_id: str, status: AgentStatus, *, reason: str | None = None,
                         at: datetime | None = None) -> Agent:
        fields: dict[str, Any] = {"status": status.value, "pause_reason": reason}
        if at is not None:
            fields["status_since"] = at
        await self.update_agent(agent_id, fields)
        return await self.agent(agent_id)

    async def agent(self, agent_id: str) -> Agent:
        doc = await self._agents.find_one({"_id": agent_id})
        if doc is None:
            raise NotFound(f"no agent {agent_id}")
        return await self._with_team(agent_from_doc(doc))

    async def agent_by_username(self, username: str) -> Agent | None:
        doc = await self._agents.find_one({"username": username})
        return await self._with_team(agent_from_doc(doc)) if doc else None

    async def agents(self) -> list[Agent]:
        agents = [agent_from_doc(doc) async for doc in self._agents.find().sort("username", 1)]
        led: dict[str, set[AgentId]] = {}
        async for doc in self._teams.find():
            led.setdefault(doc["leader_id"], set()).update(doc.get("member_ids", ()))
        return [replace(a, leads=frozenset(led.get(a.id, ()))) if a.role is Role.TEAM_LEADER else a for a in agents]

    async def _with_team(self, agent: Agent) -> Agent:
        """A team leader comes with the members of the teams she leads (``Agent.leads``)."""
        if agent.role is not Role.TEAM_LEADER:
            return agent
        members = {m async for doc in self._teams.find({"leader_id": agent.id}) for m in doc.get("member_ids", ())}
        return replace(agent, leads=frozenset(AgentId(m) for m in members))

    async def put_team(self, team: Team) -> None:
        await self._teams.replace_one(
            {"_id": team.id},
            {"name": team.name, "leader_id": team.leader_id, "member_ids": sorted(team.member_ids)}, upsert=True)

    async def team(self, team_id: str) -> Team:
        doc = await self._teams.find_one({"_id": team_id})
        if doc is None:
            raise NotFound(f"no team {team_id}")
        return team_from_doc(doc)

    async def teams(self) -> list[Team]:
        return [team_from_doc(doc) async for doc in self._teams.find().sort("_id", 1)]

    async def put_department(self, department: Department) -> None:
        await self._departments.replace_one({"_id": department.id}, {"name": department.name}, upsert=True)

    async def department(self, department_id: str) -> Department:
        doc = await self._departments.find_one({"_id": department_id})
        if doc is None:
            raise NotFound(f"no department {department_id}")
        return Department(id=doc["_id"], name=doc["name"])

    async def departments(self) -> list[Department]:
        return [Department(id=d["_id"], name=d["name"]) async for d in self._departments.find().sort("_id", 1)]

    async def put_queue(self, queue: Queue) -> None:
        await self._queues.replace_one(
            {"_id": queue.id},
            {"name": queue.name, "skills": sorted(queue.skills), "priority": queue.priority,
             **({"hours": dict(queue.hours)} if queue.hours else {})}, upsert=True)

    async def queue(self, queue_id: str) -> Queue:
        doc = await self._queues.find_one({"_id": queue_id})
        if doc is None:
            raise NotFound(f"no queue {queue_id}")
        return queue_from_doc(doc)

    async def queues(self) -> list[Queue]:
        return [queue_from_doc(doc) async for doc in self._queues.find().sort("_id", 1)]

    async def put_canned(self, reply: CannedReply) -> None:
        await self._canned.replace_one({"_id": reply.id}, {"title": reply.title, "text": reply.text}, upsert=True)

    async def canned(self) -> list[CannedReply]:
        return [CannedReply(id=d["_id"], title=d["title"], text=d["text"])
                async for d in self._canned.find().sort("title", 1)]

    async def put_wrap_up_code(self, code: WrapUpCode) -> None:
        await self._codes.replace_one({"_id": code.code}, {"label": code.label}, upsert=True)

    async def delete_wrap_up_code(self, code: str) -> bool:
        return (await self._codes.delete_one({"_id": code})).deleted_count == 1

    async def wrap_up_codes(self) -> list[WrapUpCode]:
        return [WrapUpCode(code=d["_id"], label=d["label"]) async for d in self._codes.find().sort("_id", 1)]
