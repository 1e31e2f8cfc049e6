"""The administration commands: demo data, agents and their accounts, teams, queues, KPIs, consumers."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from hub import admin, demo
from hub.accounts import AccountDesk, Publish
from hub.bus import CHANNEL as BUS_CHANNEL
from hub.cli.common import database_for, refuse_outside_development, split
from hub.config import Settings
from hub.domain.events import Fact, encode
from hub.domain.ids import Role
from hub.errors import InvalidInput
from hub.kpi import bot_kpis
from hub.passwords import hash_password as hash_password_sync
from hub.storage.conversations import MongoConversationStore
from hub.storage.database import Db
from hub.storage.directory import MongoDirectory
from hub.storage.eventlog import Checkpoint, MongoCheckpoints, MongoEventStream
from hub.storage.sessions import MongoSessionStore
from hub.teams import TeamDesk

ACCOUNT_ACTIONS = ("password", "disable", "enable", "revoke-sessions")


def add_admin_commands(sub: Any) -> None:
    """``hub demo``, ``hub agent ...``, ``hub team ...``, ``hub queue ...`` and ``hub report``."""
    sub.add_parser("demo", help="load demo queues, agents, canned replies and wrap-up codes")
    agent = sub.add_parser("agent", help="manage agents").add_subparsers(dest="action", required=True)
    create = agent.add_parser("create", help="create an agent (password read from stdin or prompted)")
    create.add_argument("username")
    create.add_argument("--name", required=True, help="display name")
    create.add_argument("--role", default="agent", choices=[r.value for r in Role])
    create.add_argument("--skills", default="", help="comma-separated skills, e.g. billing,outages")
    create.add_argument("--capacity", default="", help="per channel, e.g. webchat=3,voice=1")
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    create.add_argument("--department", default=None, help="a department user's department (role department)")
    skills = agent.add_parser("skills", help="add or remove an agent's skills")
    skills.add_argument("username")
    skills.add_argument("--add", default="", help="comma-separated")
    skills.add_argument("--remove", default="", help="comma-separated")
    agent.add_parser("list", help="list agents")
    add_account_commands(agent)
    add_team_commands(sub)
    queue = sub.add_parser("queue", help="manage queues").add_subparsers(dest="action", required=True)
    qcreate = queue.add_parser("create", help="create or update a queue")
    qcreate.add_argument("queue_id")
    qcreate.add_argument("--name", required=True)
    qcreate.add_argument("--skills", default="", help="skills an agent needs, comma-separated")
    qcreate.add_argument("--priority", type=int, default=0)
    qcreate.add_argument("--hours", default="", help="business hours in the centre's zone, e.g. "
                         "mon=08:00-20:00,sat=09:00-12:00 (days left out are closed; none: always open)")
    queue.add_parser("list", help="list queues")
    report = sub.add_parser("report", help="bot KPIs from the event table: containment, handovers, waits")
    report.add_argument("--hours", type=float, default=24.0, help="look back this many hours (default 24)")
    report.add_argument("--json", action="store_true", help="machine-readable output")


def add_consumer_commands(sub: Any) -> None:
    """``hub consumers list|reset``."""
    consumers = sub.add_parser("consumers", help="durable consumers of the event table (projections)")
    consumer_actions = consumers.add_subparsers(dest="action", required=True)
    consumer_actions.add_parser("list", help="each consumer's checkpoint, lag and holder")
    reset = consumer_actions.add_parser("reset", help="rebuild a projection: its holder drops it and replays "
                                                      "every event (a running hub does it within a poll)")
    reset.add_argument("name")


async def run_admin(args: argparse.Namespace, settings: Settings) -> int:
    async with database_for(settings) as db:
        directory = MongoDirectory(db)
        if args.command == "report":
            since = datetime.now(UTC) - timedelta(hours=args.hours)
            kpis = bot_kpis(await MongoConversationStore(db).events_since(since)).to_json()
            print(json.dumps(kpis, indent=2) if args.json else render_kpis(kpis, args.hours))
        elif args.command == "consumers":
            await run_consumers(args, settings, db)
        elif args.command == "demo":
            refuse_outside_development(settings, "hub demo")
            created = await admin.load_demo(directory)
            print(f"demo data loaded; new agents: {', '.join(created) or 'none'} "
                  f"(password for demo agents: {demo.DEMO_PASSWORD})")
        elif args.command == "agent" and args.action == "create":
            password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass()
            agent = await admin.create_agent(
                directory, username=args.username, display_name=args.name, role=args.role, password=password,
                skills=split(args.skills), capacity=admin.parse_capacity(args.capacity), department=args.department)
            print(f"created {agent.role} {agent.username} ({agent.id})")
        elif args.command == "agent" and args.action in ACCOUNT_ACTIONS:
            await run_account(args, settings, db)
        elif args.command == "agent" and args.action == "skills":
            agent = await admin.set_skills(directory, args.username, split(args.add), split(args.remove))
            print(f"{agent.username}: {', '.join(sorted(agent.skills)) or '(no skills)'}")
        elif args.command == "agent":
            for agent in await directory.agents():
                state = "  (disabled)" if agent.disabled else ""
                print(f"{agent.username:<16} {agent.role.value:<11} {','.join(sorted(agent.skills))}{state}")
        elif args.command == "team":
            await run_team(args, directory)
        elif args.command == "queue" and args.action == "create":
            queue = await admin.create_queue(directory, queue_id=args.queue_id, name=args.name,
                                             skills=split(args.skills), priority=args.priority,
                                             hours=dict(part.partition("=")[::2] for part in split(args.hours)))
            print(f"queue {queue.id} needs {', '.join(sorted(queue.skills)) or 'no skills'}")
        else:
            for queue in await directory.queues():
                print(f"{queue.id:<16} p{queue.priority} {','.join(sorted(queue.skills)):<30} {queue.name}")
    return 0


async def run_consumers(args: argparse.Namespace, settings: Settings, db: Db) -> None:
    from hub.bootstrap import consumer_registry  # the composition root knows which consumers exist

    names = consumer_registry(settings, db).names
    checkpoints, last = MongoCheckpoints(db), await MongoEventStream(db).last()
    if args.action == "reset":
        if args.name not in names:
            raise InvalidInput(f"no durable consumer {args.name!r}; known: {', '.join(names) or 'none'}")
        await checkpoints.request_reset(args.name)
        print(f"{args.name}: reset requested; the hub holding it drops the projection and replays "
              f"{last} events")
        return
    stored = {c.name: c for c in await checkpoints.all()}
    print(f"{'name':<20} {'checkpoint':>10} {'behind':>8}  holder")
    for name in sorted({*names, *stored}):
        point = stored.get(name, Checkpoint(name=name))
        state = " (reset requested)" if point.reset_requested else "" if name in names else " (not registered)"
        print(f"{name:<20} {point.seq:>10} {max(0, last - point.seq):>8}  {point.holder or '-'}{state}")


def render_kpis(kpis: dict[str, Any], hours: float) -> str:
    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1%}"

    lines = [f"Last {hours:g} h: {kpis['conversations']} conversations, {kpis['with_bot']} with the bot",
             f"  containment {pct(kpis['containment_rate'])}, handover {pct(kpis['handover_rate'])} "
             f"({kpis['handed_over']} handed over, {kpis['waiting_now']} still waiting)"]
    lines += [f"  reason {reason:<18} {n}" for reason, n in kpis["handovers_by_reason"].items()]
    lines += [f"  intent {intent:<18} {n}" for intent, n in kpis["handovers_by_intent"].items()]
    wait = kpis["wait_after_handover_s"]
    if wait:
        lines.append(f"  wait after handover: p50 {wait['p50']:.1f} s, p90 {wait['p90']:.1f} s, "
                     f"max {wait['max']:.1f} s")
    return "\n".join(lines)


def add_account_commands(agent: Any) -> None:
    """``hub agent password|disable|enable|revoke-sessions NAME`` (docs/operations.md)."""
    password = agent.add_parser("password", help="set an agent's password (her sessions end)")
    password.add_argument("username")
    password.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    for action, text in (("disable", "disable an agent: no login, her sessions end, off routing"),
                         ("enable", "enable a disabled agent"),
                         ("revoke-sessions", "end every console session of an agent")):
        agent.add_parser(action, help=text).add_argument("username")


def add_team_commands(sub: Any) -> None:
    """``hub team create|update|list`` (docs/operations.md)."""
    team = sub.add_parser("team", help="teams: agents under a team leader").add_subparsers(dest="action",
                                                                                          required=True)
    create = team.add_parser("create", help="create or replace a team")
    create.add_argument("team_id")
    create.add_argument("--name", required=True)
    create.add_argument("--leader", required=True, help="a team leader's username (role team_leader)")
    create.add_argument("--members", default="", help="comma-separated usernames, e.g. alice,bob")
    team.add_parser("list", help="list teams with their leader and members")


async def run_team(args: argparse.Namespace, directory: MongoDirectory) -> None:
    desk = TeamDesk(directory)
    if args.action == "create":
        await desk.save(args.team_id, name=args.name, leader=args.leader, members=split(args.members))
    for team in await desk.listing():
        if args.action == "create" and team["id"] != args.team_id:
            continue
        members = ",".join(m["username"] or m["id"] for m in team["members"]) or "(no members)"
        print(f"{team['id']:<16} {team['leader']['username'] or team['leader']['id']:<16} {members:<30} "
              f"{team['name']}")


@contextlib.asynccontextmanager
async def bus_publisher(settings: Settings) -> AsyncIterator[Publish | None]:
    """The running hubs' bus, so that they act on a revocation at once (None without HUB_REDIS_URL)."""
    if settings.redis_url is None:
        yield None
        return
    redis = Redis.from_url(settings.redis_url.get_secret_value(), socket_connect_timeout=5, socket_timeout=5)

    async def publish(fact: Fact) -> None:  # at once: this process does not run a bus
        await redis.publish(BUS_CHANNEL, encode(fact))

    try:
        yield publish
    finally:
        await redis.aclose()


async def run_account(args: argparse.Namespace, settings: Settings, db: Db) -> None:
    async def hash_password(password: str) -> str:
        return await asyncio.to_thread(hash_password_sync, password)

    async with bus_publisher(settings) as publish:
        desk = AccountDesk(directory=MongoDirectory(db), sessions=MongoSessionStore(db),
                           hash_password=hash_password, publish=publish)
        agent = await desk.find(args.username)
        if args.action == "password":
            password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass()
            ended = await desk.set_password(agent, password)
            print(f"password of {agent.username} changed; {ended} session(s) ended")
        elif args.action in ("disable", "enable"):
            await desk.set_disabled(agent, args.action == "disable")
            print(f"{agent.username} {args.action}d")
        else:
            print(f"{agent.username}: {await desk.revoke_sessions(agent.id)} session(s) ended")
