"""Embedded backing services for development and tests: SecantusDB and redis-server subprocesses.

Each is started on a free loopback port, waited for until it answers, and stopped by PID.
Production never uses this module: it sets ``HUB_MONGO_URL`` and ``HUB_REDIS_URL``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import functools
import logging
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)


class EmbeddedServiceError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class RunningService:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    port: int


PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM it when the parent dies (even by SIGKILL),
    so an interrupted test run or a crashed ``hub serve`` leaves no database behind."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def udp_port_free(port: int) -> bool:
    """Whether 127.0.0.1:``port`` can be bound for UDP right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_udp_ports(count: int = 1, *, low: int = 16384, high: int = 32000) -> int:
    """The first of ``count`` consecutive free UDP ports on 127.0.0.1, even (RTP takes even ports,
    RTCP the next), below Linux's ephemeral range so that no client socket takes them meanwhile."""
    for _ in range(200):
        start = random.randrange(low, high - count) & ~1
        if all(udp_port_free(port) for port in range(start, start + count)):
            return start
    raise RuntimeError(f"no {count} consecutive free UDP ports in {low}-{high}")


def wait_for_port(port: int, process: subprocess.Popen[bytes], name: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmbeddedServiceError(f"{name} exited with code {process.returncode} while starting")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise EmbeddedServiceError(f"{name} did not listen on port {port} within {timeout_s:.0f}s")


def start_secantus(data_dir: Path | None, log_path: Path, port: int | None = None,
                   cache_size: str | None = None) -> RunningService:
    """Start SecantusDB; ``data_dir=None`` keeps the data in memory (tests). ``cache_size`` is
    WiredTiger's cache ("8G"; SecantusDB's default is 1G): one operation's writes must fit in it."""
    exe = Path(sys.executable).with_name("secantusd-py")
    if not exe.exists():
        raise EmbeddedServiceError("secantusd-py not found: install the 'embedded' extra (scripts/setup.sh)")
    port = port or free_port()
    storage = ":memory:" if data_dir is None else str(data_dir)
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        storage = str(data_dir.resolve())
    cmd = [str(exe), "--host", "127.0.0.1", "--port", str(port), "--storage-path", storage, "--log-level", "WARNING"]
    if cache_size:
        cmd += ["--cache-size", cache_size]
    with log_path.open("ab") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                   preexec_fn=_die_with_parent)
    wait_for_port(port, process, "SecantusDB")
    # retryWrites=false: SecantusDB keeps a record of every retryable write for 30 minutes and scans
    # them all on every write (sorting them past 10,000), so each write cost more the more writes
    # came before it (0.63 ms at first, 1.9 ms after 9,000, 6.3 ms past 10,000; bench/README.md).
    # Its records live in memory and die with it, so they never covered the one failure embedded
    # mode has (the server restarting, keep_running below). ADR 0028; mongod URLs are the operator's.
    return RunningService("mongo", f"mongodb://127.0.0.1:{port}/?directConnection=true&retryWrites=false",
                          process, port)


def start_redis(data_dir: Path | None, log_path: Path, port: int | None = None) -> RunningService:
    """Start a private redis-server on loopback (never the machine's one on 6379)."""
    exe = shutil.which("redis-server")
    if exe is None:
        raise EmbeddedServiceError("redis-server not found: run scripts/setup.sh")
    port = port or free_port()
    log_path = log_path.resolve()  # redis-server resolves relative paths against its --dir
    workdir = (data_dir or log_path.parent).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = [exe, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(workdir), "--save", "",
           "--appendonly", "no", "--logfile", str(log_path)]
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                               preexec_fn=_die_with_parent)
    wait_for_port(port, process, "redis-server")
    return RunningService("redis", f"redis://127.0.0.1:{port}/0", process, port)


def stop(service: RunningService, timeout_s: float = 10.0) -> None:
    if service.process.poll() is not None:
        return
    service.process.terminate()
    try:
        service.process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        service.process.kill()
        service.process.wait()


class Supervised:
    """An embedded service that is started again when it exits: on the same port, so its URL (and
    every client's connection pool) stays valid. A restarted redis-server is empty, which routing
    notices and rebuilds from MongoDB; a restarted SecantusDB reopens its data folder."""

    def __init__(self, name: str, start: Callable[[int | None], RunningService]) -> None:
        self.name = name
        self._start = start
        self.current = start(None)
        self.restarts = 0

    @property
    def url(self) -> str:
        return self.current.url

    def exited(self) -> int | None:
        """The exit code when the service has stopped by itself, else None."""
        return self.current.process.poll()

    def restart(self) -> None:
        """Blocking (waits for the port): call it from a thread."""
        self.current = self._start(self.current.port)
        self.restarts += 1

    def stop(self) -> None:
        stop(self.current)


async def keep_running(services: list[Supervised], *, check_every_s: float = 0.5,
                       max_backoff_s: float = 30.0) -> None:
    """Restart whichever service exited, with a backoff per service while restarts keep failing.
    Runs until cancelled (``hub serve`` cancels it before it stops the services)."""
    failures = dict.fromkeys((s.name for s in services), 0)
    next_try = dict.fromkeys((s.name for s in services), 0.0)
    loop = asyncio.get_running_loop()
    while True:
        for service in services:
            code = service.exited()
            if code is None or loop.time() < next_try[service.name]:
                continue
            logger.warning("embedded.exited name=%s code=%s restarting", service.name, code)
            try:
                await asyncio.to_thread(service.restart)
            except (EmbeddedServiceError, OSError) as err:
                failures[service.name] += 1
                delay = min(max_backoff_s, 2.0 ** failures[service.name])
                next_try[service.name] = loop.time() + delay
                logger.error("embedded.restart_failed name=%s error=%s retry_in_s=%.0f", service.name, err, delay)
            else:
                failures[service.name] = 0
                logger.warning("embedded.restarted name=%s url=%s restarts=%d", service.name, service.url,
                               service.restarts)
        await asyncio.sleep(check_every_s)


@contextlib.contextmanager
def embedded_services(data_dir: Path | None, log_dir: Path) -> Iterator[tuple[Supervised, Supervised]]:
    """Start SecantusDB and Redis, yield them, stop both (reverse order) whatever happens.
    ``keep_running`` restarts either when it exits meanwhile."""
    log_dir.mkdir(parents=True, exist_ok=True)
    mongo_dir, redis_dir = (data_dir / "mongo", data_dir / "redis") if data_dir else (None, None)
    mongo = Supervised("mongo", functools.partial(start_secantus, mongo_dir, log_dir / "secantus.log"))
    try:
        redis = Supervised("redis", functools.partial(start_redis, redis_dir, log_dir / "redis.log"))
        try:
            logger.info("embedded.started mongo=%s redis=%s", mongo.url, redis.url)
            yield mongo, redis
        finally:
            redis.stop()
    finally:
        mongo.stop()
