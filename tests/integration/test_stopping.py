"""Stopping: SIGTERM or SIGINT to ``scripts/run.sh`` (or to ``hub serve``) stops everything it started.

The processes are found from ``/proc`` (children of the started process, by parent PID), and are
told apart from later processes that reuse a PID by their start time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from hub.embedded import free_port
from tests.conftest import eventually

ROOT = Path(__file__).resolve().parents[2]
Process = tuple[int, int]  # (pid, start time in clock ticks since boot): one process, whatever reuses the pid


def stat_of(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) from /proc/<pid>/stat; None when there is no such process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()  # the command name may hold spaces and parentheses
    return fields[0], int(fields[1]), int(fields[19])


def descendants(root: int) -> dict[Process, str]:
    """Every living process below ``root``, with its command line."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := stat_of(int(entry.name))) is not None:
            parents.setdefault(stat[1], []).append(int(entry.name))
    found: dict[Process, str] = {}
    todo = list(parents.get(root, []))
    while todo:
        pid = todo.pop()
        stat = stat_of(pid)
        if stat is None or stat[0] == "Z":
            continue
        with contextlib.suppress(OSError):
            found[(pid, stat[2])] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        todo.extend(parents.get(pid, []))
    return found


def alive(process: Process) -> bool:
    stat = stat_of(process[0])
    return stat is not None and stat[2] == process[1] and stat[0] != "Z"


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def log_text(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


async def serving(port: int, process: subprocess.Popen[bytes], log: Path) -> bool:
    assert process.poll() is None, f"exited with {process.returncode}:\n{log_text(log)[-3000:]}"
    try:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/healthz") as resp:
            return resp.status == 200
    except aiohttp.ClientError:
        return False


COMMANDS = {"run.sh": ["scripts/run.sh"], "hub serve": [sys.executable, "-m", "hub", "serve"]}


@pytest.mark.parametrize(("command", "sig", "to_group"), [
    ("run.sh", signal.SIGTERM, False),
    ("run.sh", signal.SIGINT, False),
    ("run.sh", signal.SIGINT, True),  # Ctrl-C in a terminal: the whole foreground process group
    ("hub serve", signal.SIGTERM, False),
], ids=["run.sh-SIGTERM", "run.sh-SIGINT", "run.sh-ctrl-c", "hub-serve-SIGTERM"])
async def test_a_signal_stops_the_hub_and_everything_it_started(
        tmp_path: Path, command: str, sig: signal.Signals, to_group: bool) -> None:
    port, log = free_port(), tmp_path / "run.log"
    env = {key: value for key, value in os.environ.items()
           if key not in {"HUB_MONGO_URL", "HUB_REDIS_URL", "HUB_BOT__RASA_URL"}}
    env.update(HUB_NO_BOT="1", HUB_HTTP__PORT=str(port), HUB_EMBEDDED__DATA_DIR=str(tmp_path / "data"))
    with log.open("ab") as out:
        process = subprocess.Popen(COMMANDS[command], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_as_a_terminal)
    started: dict[Process, str] = {}
    try:
        await eventually(lambda: serving(port, process, log), timeout=180, interval=0.2)
        started = descendants(process.pid)
        assert any("secantusd" in cmd for cmd in started.values()), started
        assert any("redis-server" in cmd for cmd in started.values()), started
        embedded = re.search(r"embedded\.started mongo=\S+:(\d+)/\S* redis=\S+:(\d+)/", log_text(log))
        assert embedded, log_text(log)
        ports = [port, int(embedded[1]), int(embedded[2])]
        # Start-up's heap is frozen out of the garbage collector's way (a full collection would scan it).
        await eventually(lambda: "hub.gc.frozen" in log_text(log), timeout=30)
        frozen = re.search(r"hub\.gc\.frozen objects=(\d+)", log_text(log))
        assert frozen and int(frozen[1]) > 10_000, log_text(log)

        if to_group:
            os.killpg(process.pid, sig)
        else:
            os.kill(process.pid, sig)

        await eventually(lambda: process.poll() is not None, timeout=60)
        await eventually(lambda: not [cmd for p, cmd in started.items() if alive(p)], timeout=60)
        assert not [p for p in ports if listening(p)]
        assert "hub.stopped" in log_text(log), "the hub stopped cleanly (components, then embedded services)"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        for left in (p for p in started if alive(p)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(left[0], signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(process.wait, 10)


def _as_a_terminal() -> None:
    """SIGINT as a terminal's shell has it. A test run started in the background of a shell without
    job control inherits SIGINT *ignored*, and a shell cannot trap a signal ignored on entry (POSIX):
    run.sh would then never see the SIGINT this test sends, whatever run.sh does."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
