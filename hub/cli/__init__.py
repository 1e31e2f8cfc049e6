"""The ``hub`` command: the parser and the dispatch to one module per role.

``serve.py`` runs the hub, ``admin_commands.py`` manages agents, teams, queues, KPIs and consumers,
``bot_commands.py`` evaluates and trains the bot, ``common.py`` holds what they share.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from hub.cli.admin_commands import add_admin_commands, add_consumer_commands, run_admin
from hub.cli.bot_commands import add_bot_commands, run_bot
from hub.cli.serve import agent_phone, serve
from hub.config import Settings, load_settings
from hub.configdoc import render_reference
from hub.embedded import EmbeddedServiceError
from hub.errors import HubError
from hub.redaction import install_redaction, quiet_noisy_libraries, secrets_of


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hub", description="Northgrid omnichannel customer-service hub")
    sub = parser.add_subparsers(dest="command", required=True)
    serve_command = sub.add_parser("serve", help="run the hub (embedded SecantusDB and Redis when no URLs are set)")
    serve_command.add_argument("--demo", action="store_true", help="load the demo data first (idempotent)")
    add_admin_commands(sub)
    add_bot_commands(sub)
    add_consumer_commands(sub)
    voice = sub.add_parser("voice", help="phone calls").add_subparsers(dest="action", required=True)
    voice.add_parser("phone", help="an agent's SIP phone account (endpoint and password) for her softphone"
                     ).add_argument("username")
    sub.add_parser("config-doc", help="print the configuration reference (Markdown)")
    return parser


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
        if args.command == "bot":
            return asyncio.run(run_bot(args, settings))
        if args.command == "serve":
            return asyncio.run(serve(settings, with_demo=args.demo))
        if args.command == "voice":
            return agent_phone(settings, args.username)
        return asyncio.run(run_admin(args, settings))
    except (HubError, EmbeddedServiceError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

