"""``python -m voice.pbx start|stop|status|cli``: one Asterisk instance for the run command.

Needs no hub settings: everything comes from the arguments and ``HUB_ASTERISK_*`` variables. The
AMI secret is ``HUB_ASTERISK_AMI_SECRET`` or generated once and kept (mode 600) in the instance's
directory, ``ami-secret``; it is never printed. ``start`` leaves Asterisk running and returns.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
from pathlib import Path

from voice.pbx import DEFAULT_ROOT, AsteriskInstance, PbxError, host_path, running_pid
from voice.pbx_config import AgentPhone, PbxPlan, PbxPorts, instance_dir

STOPPED = 3  # the exit code of ``status`` for a stopped instance (as LSB init scripts)


def _env(name: str, default: str) -> str:
    return os.environ.get(f"HUB_ASTERISK_{name}", default)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m voice.pbx", description=__doc__)
    top.add_argument("--root", type=Path, default=Path(_env("ROOT", str(DEFAULT_ROOT))), help="the chroot")
    commands = top.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="write the configuration, start, wait until fully booted")
    for sub in (start, commands.add_parser("stop"), commands.add_parser("status")):
        sub.add_argument("--name", default="run")
    start.add_argument("--sip-port", type=int, default=int(_env("SIP_PORT", "5060")))
    start.add_argument("--ami-port", type=int, default=int(_env("AMI_PORT", "5038")))
    start.add_argument("--rtp", default=_env("RTP", "10000-10999"), help="RTP port range, START-END")
    start.add_argument("--ami-user", default=_env("AMI_USER", "hub"))
    start.add_argument("--agi", default=_env("AGI", "127.0.0.1:4573"), help="the hub's FastAGI HOST:PORT")
    start.add_argument("--agent", action="append", default=[], metavar="ENDPOINT[@CONTACT]",
                       help="an agent phone; with @sip:user@host:port a static contact, else it registers"
                            " (password from HUB_ASTERISK_AGENT_PASSWORD)")
    start.add_argument("--caller", action="append", default=[], help="a caller endpoint (no auth)")
    cli = commands.add_parser("cli", help="one CLI command on a running instance")
    cli.add_argument("--name", default="run")
    cli.add_argument("text")
    return top


def plan_from(args: argparse.Namespace) -> PbxPlan:
    rtp_start, _, rtp_end = str(args.rtp).partition("-")
    agi_host, _, agi_port = str(args.agi).rpartition(":")
    password = os.environ.get("HUB_ASTERISK_AGENT_PASSWORD")
    agents = []
    for spec in args.agent:
        endpoint, _, contact = str(spec).partition("@")
        agents.append(AgentPhone(endpoint, password=None if contact else password, contact=contact or None))
    return PbxPlan(name=args.name, ports=PbxPorts(args.sip_port, args.ami_port, int(rtp_start), int(rtp_end)),
                   ami_user=args.ami_user, ami_secret=_secret(args.root, args.name), agi_host=agi_host,
                   agi_port=int(agi_port), agents=tuple(agents), callers=tuple(args.caller))


def _secret(root: Path, name: str) -> str:
    given = os.environ.get("HUB_ASTERISK_AMI_SECRET")
    if given:
        return given
    path = host_path(root, instance_dir(name)) / "ami-secret"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(24)
    path.touch(mode=0o600)
    path.write_text(secret + "\n")
    return secret


def _placeholder(args: argparse.Namespace) -> PbxPlan:
    """Enough of a plan to find a running instance by name (stop, status, cli)."""
    return PbxPlan(name=args.name, ports=PbxPorts(1, 2, 10, 20), ami_user="hub", ami_secret="placeholder",
                   agi_host="127.0.0.1", agi_port=3)


async def run(args: argparse.Namespace) -> int:
    if args.command == "start":
        plan = plan_from(args)
        instance = AsteriskInstance(args.root, plan, die_with_parent=False)
        await instance.start()
        print(json.dumps({"name": plan.name, "pid": instance.pid, "sip": plan.ports.sip, "ami": plan.ports.ami,
                          "ami_user": plan.ami_user, "rtp": [plan.ports.rtp_start, plan.ports.rtp_end],
                          "log": str(instance.log_path), "recordings": str(instance.recordings_dir_host)}))
        return 0
    instance = AsteriskInstance(args.root, _placeholder(args))
    if args.command == "stop":
        await instance.stop()
        return 0
    if args.command == "status":
        pid = running_pid(instance.pid_file)
        if pid is None:
            print(f"{args.name}: stopped")
            return STOPPED
        uptime = (await instance.cli("core show uptime")).strip().splitlines()
        print(f"{args.name}: running, pid {pid}; {uptime[0] if uptime else ''}")
        return 0
    print(await instance.cli(args.text), end="")
    return 0


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        sys.exit(asyncio.run(run(args)))
    except (PbxError, ValueError) as err:
        print(f"voice.pbx: {err}", file=sys.stderr)
        sys.exit(1)
