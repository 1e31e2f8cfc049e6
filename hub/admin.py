"""Administration used by the CLI and tests: create agents, queues and skills; load demo data."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping

from hub import demo
from hub.domain.business_hours import parse_weekly, weekly_doc
from hub.domain.ids import CHANNELS, AgentId, QueueId, Role, Skill, new_id
from hub.domain.model import Agent, Queue
from hub.errors import InvalidInput
from hub.passwords import check_password_rules, hash_password
from hub.ports import Directory
from hub.teams import TeamDesk

DEFAULT_CAPACITY = {"webchat": 3, "sms": 3, "email": 5, "telegram": 3, "voice": 1}


def parse_capacity(text: str) -> dict[str, int]:
    """``webchat=3,voice=1`` -> a capacity per channel; unknown channels are refused."""
    capacity = dict(DEFAULT_CAPACITY)
    for part in filter(None, (p.strip() for p in text.split(","))):
        channel, _, number = part.partition("=")
        if channel not in CHANNELS or not number.isdigit():
            raise InvalidInput(f"capacity entries look like webchat=3 (channels: {', '.join(CHANNELS)})")
        capacity[channel] = int(number)
    return capacity


async def create_agent(directory: Directory, *, username: str, display_name: str, role: str,
                       password: str, skills: Iterable[str], capacity: Mapping[str, int],
                       department: str | None = None) -> Agent:
    check_password_rules(password)
    try:
        parsed_role = Role(role)
    except ValueError:
        raise InvalidInput(f"role must be one of {', '.join(r.value for r in Role)}") from None
    if (parsed_role is Role.DEPARTMENT) != bool(department):
        raise InvalidInput("a department user needs --department, and only a department user has one")
    if department:
        await directory.department(department)  # NotFound for an unknown one
    agent = Agent(id=AgentId(new_id("a")), username=username, display_name=display_name, role=parsed_role,
                  skills=frozenset(Skill(s) for s in skills), capacity=dict(capacity),
                  password_hash=await asyncio.to_thread(hash_password, password), department=department)
    await directory.add_agent(agent)
    return agent


async def set_skills(directory: Directory, username: str, add: Iterable[str], remove: Iterable[str]) -> Agent:
    agent = await directory.agent_by_username(username)
    if agent is None:
        raise InvalidInput(f"no agent {username!r}")
    skills = (set(agent.skills) | set(add)) - set(remove)
    await directory.update_agent(agent.id, {"skills": sorted(skills)})
    return await directory.agent(agent.id)


async def create_queue(directory: Directory, *, queue_id: str, name: str, skills: Iterable[str],
                       priority: int, hours: Mapping[str, str] | None = None) -> Queue:
    """Create or replace a queue; ``hours`` are its weekly business hours (none: always open)."""
    try:
        windows = parse_weekly(hours or {})
    except ValueError as err:
        raise InvalidInput(f"business hours: {err}") from err
    queue = Queue(id=QueueId(queue_id), name=name, skills=frozenset(Skill(s) for s in skills), priority=priority,
                  hours=weekly_doc(windows))
    await directory.put_queue(queue)
    return queue


async def load_demo(directory: Directory) -> list[str]:
    """Idempotent: existing agents are kept; queues, canned replies, codes and teams are upserted."""
    for queue in demo.QUEUES:
        await directory.put_queue(queue)
    for reply in demo.CANNED:
        await directory.put_canned(reply)
    for code in demo.WRAP_UP_CODES:
        await directory.put_wrap_up_code(code)
    for department in demo.DEPARTMENTS:
        await directory.put_department(department)
    created = []
    for username, name, department_id in demo.DEPARTMENT_USERS:
        if await directory.agent_by_username(username) is None:
            await create_agent(directory, username=username, display_name=name, role="department",
                               password=demo.DEMO_PASSWORD, skills=(), capacity={}, department=department_id)
            created.append(username)
    for username, name, role, skills in demo.AGENTS:
        if await directory.agent_by_username(username) is None:
            await create_agent(directory, username=username, display_name=name, role=role,
                               password=demo.DEMO_PASSWORD, skills=skills, capacity=demo.CAPACITY)
            created.append(username)
    teams = TeamDesk(directory)
    for team_id, name, leader, members in demo.TEAMS:
        await teams.save(team_id, name=name, leader=leader, members=members)
    return created
