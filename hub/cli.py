"""The ``hub`` command: serve, administration and the configuration reference."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import logging
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from hub import admin, demo
from hub.accounts import AccountDesk, Publish
from hub.bus import CHANNEL as BUS_CHANNEL
from hub.config import Settings, load_settings
from hub.configdoc import render_reference
from hub.domain.events import Fact, encode
from hub.domain.ids import Role
from hub.domain.training import ImportReport
from hub.embedded import EmbeddedServiceError, embedded_services, keep_running
from hub.errors import HubError, InvalidInput
from hub.kpi import bot_kpis
from hub.passwords import hash_password as hash_password_sync
from hub.redaction import install_redaction, quiet_noisy_libraries, secrets_of
from hub.storage.conversations import MongoConversationStore
from hub.storage.database import Db, connect, ensure_indexes
from hub.storage.directory import MongoDirectory
from hub.storage.eventlog import Checkpoint, MongoCheckpoints, MongoEventStream
from hub.storage.sessions import MongoSessionStore
from hub.tasks import cancel_and_wait
from hub.teams import TeamDesk

logger = logging.getLogger("hub")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hub", description="Northgrid omnichannel customer-service hub")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the hub (embedded SecantusDB and Redis when no URLs are set)")
    serve.add_argument("--demo", action="store_true", help="load the demo data first (idempotent)")
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
    bot = sub.add_parser("bot", help="the Rasa bot").add_subparsers(dest="action", required=True)
    evaluate = bot.add_parser("evaluate", help="score the running model on a CSV of text,intent rows")
    evaluate.add_argument("file", type=Path, help="CSV with a text,intent header; unknown intents = hand over")
    evaluate.add_argument("--json", action="store_true", help="machine-readable output")
    evaluate.add_argument("--model", help="a trained model's id (hub bot models) instead of the running server's")
    add_training_commands(bot)
    consumers = sub.add_parser("consumers", help="durable consumers of the event table (projections)")
    consumer_actions = consumers.add_subparsers(dest="action", required=True)
    consumer_actions.add_parser("list", help="each consumer's checkpoint, lag and holder")
    reset = consumer_actions.add_parser("reset", help="rebuild a projection: its holder drops it and replays "
                                                      "every event (a running hub does it within a poll)")
    reset.add_argument("name")
    voice = sub.add_parser("voice", help="phone calls").add_subparsers(dest="action", required=True)
    voice.add_parser("phone", help="an agent's SIP phone account (endpoint and password) for her softphone"
                     ).add_argument("username")
    sub.add_parser("config-doc", help="print the configuration reference (Markdown)")
    return parser


def split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


@contextlib.asynccontextmanager
async def database_for(settings: Settings) -> AsyncIterator[Db]:
    with contextlib.ExitStack() as stack:
        if settings.mongo_url is None:
            data_dir = settings.embedded.data_dir
            mongo_service, _ = stack.enter_context(embedded_services(data_dir, data_dir / "logs"))
            url = mongo_service.url
        else:
            url = settings.mongo_url.get_secret_value()
        client = connect(url)
        try:
            db = client[settings.mongo_db]
            await ensure_indexes(db)
            yield db
        finally:
            await client.close()


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


async def run_bot_evaluation(settings: Settings, path: Path, *, as_json: bool, model: str | None = None) -> int:
    from hub.bootstrap import evaluate_bot, training_desk  # the composition root knows the bot package

    text = await read_text(path)
    try:
        if model is None:
            result = await evaluate_bot(settings, text)
        else:
            async with database_for(settings) as db, await training_desk(settings, db) as desk:
                result = await desk.evaluate(model, text)
    except ValueError as err:
        raise InvalidInput(str(err)) from err
    if as_json:
        print(json.dumps(result, indent=2))
        return 0

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1%}"

    print(f"{result['turns']} turns, {result['model_intents']} intents in the model")
    print(f"intent accuracy (in-domain rows) {pct(result['intent_accuracy'])}, "
          f"macro-F1 {pct(result.get('intent_macro_f1'))}")
    print(f"accuracy (handover counted as the right answer for unknown/human intents) {pct(result['accuracy'])}")
    print(f"macro-F1 {pct(result['macro_f1'])}, handover rate {pct(result['handover_rate'])}, "
          f"accuracy on the turns the bot keeps {pct(result['kept_accuracy'])}")
    oos = result.get("out_of_scope")
    if oos:
        print(f"out of scope at threshold {oos['threshold']:.2f} ({oos['threshold_source']}), {oos['rows']} rows: "
              f"recall {pct(oos['out_of_scope_recall'])} of {oos['out_of_scope_rows']}; in scope: accuracy "
              f"{pct(oos['in_scope_accuracy'])}, macro-F1 {pct(oos['in_scope_macro_f1'])}, handed over "
              f"{pct(oos['in_scope_handed_over'])}; other handovers {pct(oos['handed_over_for_other_reasons'])}")
        print("threshold  in-scope accuracy  in-scope handed over  out-of-scope recall")
        for point in oos["curve"]:
            print(f"{point['threshold']:9.2f}  {pct(point['in_scope_accuracy']):>17}  "
                  f"{pct(point['in_scope_handed_over']):>20}  {pct(point['out_of_scope_recall']):>19}")
    return 0


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


async def serve(settings: Settings, *, with_demo: bool) -> int:
    from hub.bootstrap import embedded_voice, running_hub  # the composition root, imported only to run

    if with_demo:
        refuse_outside_development(settings, "hub serve --demo")
    if not settings.development_mode and settings.production_problems():
        for problem in settings.production_problems():
            print(f"error: {problem}", file=sys.stderr)
        return 2
    stop = stop_on_signals()  # first: a SIGINT/SIGTERM during start-up stops the hub once it has started
    async with contextlib.AsyncExitStack() as stack:
        if settings.mongo_url is None or settings.redis_url is None:
            data_dir = settings.embedded.data_dir
            mongo_service, redis_service = stack.enter_context(embedded_services(data_dir, data_dir / "logs"))
            # Supervised: an embedded service that exits is started again (cancelled before they stop).
            keeper = asyncio.create_task(keep_running([
                service for service, external in ((mongo_service, settings.mongo_url),
                                                  (redis_service, settings.redis_url)) if external is None]),
                name="hub:embedded-keeper")
            stack.push_async_callback(cancel_and_wait, keeper)
        mongo_url = settings.mongo_url.get_secret_value() if settings.mongo_url else mongo_service.url
        redis_url = settings.redis_url.get_secret_value() if settings.redis_url else redis_service.url
        settings = await stack.enter_async_context(embedded_voice(settings))
        async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as hub:
            if with_demo:
                created = await admin.load_demo(hub.context.directory)
                if created:
                    print(f"demo agents created: {', '.join(created)} (password: {demo.DEMO_PASSWORD})")
            print(f"Agent console:  {hub.base_url}/console/login", flush=True)
            print(f"Web-chat demo:  {hub.base_url}/webchat/demo", flush=True)
            print(f"Widget tag:     <script src=\"{hub.base_url}/webchat/widget.js\" defer></script>", flush=True)
            await stop.wait()
            logger.info("hub.stopping")
    logger.info("hub.stopped")  # the HTTP server, every component and the embedded services have stopped
    return 0


def stop_on_signals() -> asyncio.Event:
    """An event that SIGINT and SIGTERM set (for the rest of the process); no signal is lost."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = load_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # PyMongo's DEBUG records quote whole commands (message texts, phone numbers): never below INFO.
    logging.getLogger("pymongo").setLevel(max(logging.getLogger().level, logging.INFO))
    install_redaction(secrets_of(settings))  # on the handlers: it covers every logger, third-party too
    quiet_noisy_libraries()
    if args.command == "config-doc":
        print(render_reference(Settings))
        return 0
    try:
        if args.command == "bot" and args.action == "evaluate":
            return asyncio.run(run_bot_evaluation(settings, args.file, as_json=args.json, model=args.model))
        if args.command == "bot" and args.action == "shipped-eval":
            return asyncio.run(run_shipped_evaluation(settings, args.model))
        if args.command == "bot":
            return asyncio.run(run_training(args, settings))
        if args.command == "serve":
            return asyncio.run(serve(settings, with_demo=args.demo))
        if args.command == "voice":
            from hub.bootstrap import agent_phone_account  # the composition root knows the voice package

            endpoint, password = agent_phone_account(settings, args.username)
            print(f"endpoint (SIP user): {endpoint}\npassword: {password}")
            return 0
        return asyncio.run(run_admin(args, settings))
    except (HubError, EmbeddedServiceError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


ACCOUNT_ACTIONS = ("password", "disable", "enable", "revoke-sessions")


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


def refuse_outside_development(settings: Settings, command: str) -> None:
    """The demo agents' password is public: never create them next to real data."""
    if not settings.development_mode:
        raise InvalidInput(f"{command} runs only in development mode (neither HUB_MONGO_URL nor HUB_REDIS_URL "
                           "set): the demo agents' password is public")


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


def add_training_commands(bot: Any) -> None:
    """``hub bot import|train|models|activate|export``: the trainer's loop from the shell."""
    load = bot.add_parser("import", help="bring a text,intent CSV into the curated training data (MongoDB)")
    load.add_argument("file", type=Path, help="CSV with a text,intent header")
    load.add_argument("--replace", action="store_true", help="replace every curated example and intent")
    load.add_argument("--skip-bad", action="store_true",
                      help="import the good rows of a file with bad ones, listing what was skipped")
    bot.add_parser("train", help="train a model from the curated data, showing progress (one at a time)")
    bot.add_parser("models", help="list the trained models and their held-out scores")
    activate = bot.add_parser("activate", help="load a trained model into Rasa; scripts/rasa.sh start loads it too")
    activate.add_argument("model_id", nargs="?", help="default: the newest trained model")
    shipped = bot.add_parser("shipped-eval", help="evaluate a model of scripts/rasa.sh train on the held-out set and "
                             "store it, out-of-scope threshold included, beside the model (kept while current)")
    shipped.add_argument("model", type=Path, help="the model file (models/northgrid-<hash>.tar.gz)")
    export = bot.add_parser("export", help="write the Rasa files (domain, NLU, rules) of the curated data")
    export.add_argument("folder", type=Path)


def print_import(report: ImportReport) -> None:
    print(f"{report.rows} rows, {report.imported} examples written, {report.skipped} skipped, "
          f"{report.duplicates} duplicates, {report.intents} intents"
          f"{' (replaced everything)' if report.replaced else ''} in {report.seconds:.1f} s")
    if report.mapped:
        print(f"{len(report.mapped)} label(s) mapped to intent names:")
        for label, name in report.mapped:
            print(f"  {label!r} -> {name}")
    if report.conflicts:
        print(f"skipped {len(report.conflicts)} text(s) labelled two ways; resolve and import them again:")
        for conflict in report.conflicts:
            print(f"  {conflict}")
    if report.errors:
        print("skipped bad rows:")
        for error in report.errors:
            print(f"  {error}")


async def read_text(path: Path) -> str:
    try:
        return await asyncio.to_thread(path.read_text, encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InvalidInput(f"cannot read {path}: {err}") from err


async def run_shipped_evaluation(settings: Settings, model: Path) -> int:
    from hub.bootstrap import shipped_evaluation  # the composition root knows the bot package

    if not await asyncio.to_thread(model.is_file):
        raise InvalidInput(f"no model file {model}")
    metrics, computed = await shipped_evaluation(settings, model)
    scope = metrics.get("out_of_scope") or {}
    print(f"{model.name}: out-of-scope threshold {scope.get('threshold')} ({scope.get('threshold_source')}), "
          f"in-scope accuracy {fmt(scope.get('in_scope_accuracy'))}, out-of-scope recall "
          f"{fmt(scope.get('out_of_scope_recall'))}{'' if computed else ' (stored, current)'}")
    return 0


async def run_training(args: argparse.Namespace, settings: Settings) -> int:
    from hub.bootstrap import training_desk  # the composition root knows the bot package

    async with database_for(settings) as db, await training_desk(settings, db) as desk:
        if args.action == "import":
            report = await desk.import_csv(await read_text(args.file), replace=args.replace, by="cli",
                                           skip_bad=args.skip_bad)
            print_import(report)
        elif args.action == "train":
            live = sys.stdout.isatty()

            async def show(model: Any) -> None:
                line = f"{model.progress:6.1%}  {model.phase}"
                print(f"\r{line:<60}" if live else line, end="" if live else "\n", flush=True)

            model = await desk.train(by="cli", on_progress=show)
            print()
            if model.status.value == "failed":
                print(f"error: training failed: {model.error}", file=sys.stderr)
                return 1
            metrics = model.metrics or {}
            print(f"model {model.id} trained in {model.duration_s:.0f} s: {model.examples} examples, "
                  f"{model.intents} intents; held-out accuracy {fmt(metrics.get('accuracy'))}, "
                  f"macro-F1 {fmt(metrics.get('macro_f1'))} with handovers by policy; the model's reading "
                  f"{fmt(metrics.get('intent_accuracy'))}, macro-F1 {fmt(metrics.get('intent_macro_f1'))}. "
                  f"Activate: hub bot activate {model.id}")
        elif args.action == "models":
            for model in await desk.models():
                metrics = model.metrics or {}
                print(f"{model.id:<28} {model.status.value:<9} {model.examples:>6} examples "
                      f"accuracy {fmt(metrics.get('accuracy'))} macro-F1 {fmt(metrics.get('macro_f1'))}")
        elif args.action == "activate":
            model = await desk.activate(args.model_id, by="cli")
            where = "loaded into Rasa" if settings.bot.rasa_url else "Rasa loads it at its next start"
            print(f"model {model.id} is active ({where})")
        else:
            files = await desk.export()
            for name, text in files.items():
                target = args.folder / name
                await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
                await asyncio.to_thread(target.write_text, text, encoding="utf-8")
            print(f"wrote {', '.join(files)} to {args.folder}")
    return 0


def fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


if __name__ == "__main__":
    sys.exit(main())
