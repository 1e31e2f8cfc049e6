"""One real Asterisk instance in the shared chroot: write its files, start, reload, stop (by PID).

Asterisk 22 runs from the Debian sid chroot that ``scripts/asterisk.sh setup`` builds (default
``/var/lib/hub/astroot``), as root without ``-U`` (docs/decisions/0024). Each instance has its own
directory tree ``<root>/srv/hub/<name>`` (see ``voice.pbx_config``), so several run at once.
``python -m voice.pbx`` is the command line (``voice/pbx_cli.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import signal
import time
from pathlib import Path, PurePosixPath

from hub.embedded import _die_with_parent
from hub.errors import HubError
from voice.pbx_config import TRANSPORT, PbxPlan, config_path, instance_dirs, render

logger = logging.getLogger(__name__)

DEFAULT_ROOT = Path("/var/lib/hub/astroot")
ASTERISK = "/usr/sbin/asterisk"
# What reloads each file on a running instance; asterisk.conf and modules.conf need a restart.
RELOADS = {
    "pjsip.conf": "module reload res_pjsip.so",
    "extensions.conf": "dialplan reload",
    "manager.conf": "manager reload",
    "musiconhold.conf": "moh reload",
    "rtp.conf": "module reload res_rtp_asterisk.so",
    "logger.conf": "logger reload",
}
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # help texts come coloured even through a pipe
# Debian's stock files are copied beside ours (fewer "Unable to load config" errors); never these.
NOT_COPIED = frozenset({"users.conf", "extensions.ael", "extensions.lua"})


class PbxError(HubError):
    """Asterisk could not be set up, started, commanded or stopped; the message says why."""

    code = "pbx_error"


def host_path(root: Path, inside: PurePosixPath) -> Path:
    """A path inside the chroot, seen from the host."""
    return root / inside.relative_to("/")


class AsteriskInstance:
    """A private Asterisk on the plan's loopback ports.

    Lifecycle: ``start`` once, then ``apply``/``cli`` any number of times, then ``stop`` (idempotent,
    also after a failed start). Not safe to share between event loops. ``die_with_parent`` asks
    Linux to stop Asterisk when this process dies (tests); the run command turns it off.
    """

    def __init__(self, root: Path, plan: PbxPlan, *, die_with_parent: bool = True) -> None:
        self.root = root
        self.plan = plan
        self.die_with_parent = die_with_parent
        self._process: asyncio.subprocess.Process | None = None
        self._pid: int | None = None
        self._lock = asyncio.Lock()

    # -- where things are ------------------------------------------------------------------------
    @property
    def directory(self) -> Path:
        return host_path(self.root, self.plan.directory())

    @property
    def recordings_dir_host(self) -> Path:
        return host_path(self.root, self.plan.recordings())

    @property
    def log_path(self) -> Path:
        return host_path(self.root, instance_dirs(self.plan.name)["astlogdir"]) / "messages.log"

    @property
    def pid_file(self) -> Path:
        return self.directory / "asterisk.pid"

    @property
    def pid(self) -> int | None:
        return self._pid

    # -- lifecycle ---------------------------------------------------------------------------------
    async def start(self, timeout_s: float = 30.0) -> None:
        """Write the configuration, start Asterisk and return once it is fully booted.

        Raises:
            PbxError: no chroot, this instance already runs, or Asterisk exited or did not boot in
                time (the message carries the tail of its output and log; it is stopped then).
        """
        if not (self.root / ASTERISK.lstrip("/")).exists():
            raise PbxError(f"no Asterisk in {self.root}: run scripts/asterisk.sh setup")
        if running_pid(self.pid_file) is not None:
            raise PbxError(f"instance {self.plan.name} already runs (pid file {self.pid_file})")
        if await asyncio.to_thread(self._prepare):
            await self._mount_proc()
        started = time.monotonic()
        with (self.directory / "asterisk.out").open("ab") as out:
            self._process = await asyncio.create_subprocess_exec(
                "chroot", str(self.root), ASTERISK, "-f", "-C", str(config_path(self.plan.name)),
                stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=asyncio.subprocess.STDOUT,
                start_new_session=True, preexec_fn=_die_with_parent if self.die_with_parent else None)
        self._pid = self._process.pid  # chroot execs asterisk: the same PID
        self.pid_file.write_text(f"{self._pid}\n")
        try:
            await self._wait_booted(timeout_s)
            await self._check_listeners()
        except BaseException:
            await self.stop()
            raise
        logger.info("pbx.started name=%s pid=%s boot_ms=%d", self.plan.name, self._pid,
                    (time.monotonic() - started) * 1000)

    async def _wait_booted(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            if self._process is not None and self._process.returncode is not None:
                raise PbxError(f"asterisk {self.plan.name} exited with {self._process.returncode}:\n{self._tail()}")
            with contextlib.suppress(PbxError, TimeoutError):
                await self.cli("core waitfullybooted", timeout_s=max(0.5, deadline - time.monotonic()))
                return
            if time.monotonic() > deadline:
                raise PbxError(f"asterisk {self.plan.name} did not boot in {timeout_s} s:\n{self._tail()}")
            await asyncio.sleep(0.05)

    async def _check_listeners(self) -> None:
        """Asterisk boots even when its SIP or AMI port is taken (it only logs an error): refuse that."""
        ports = self.plan.ports
        if TRANSPORT not in await self.cli("pjsip show transports"):
            raise PbxError(f"asterisk {self.plan.name}: no SIP transport on 127.0.0.1:{ports.sip} (port taken?)\n"
                           f"{self._tail()}")
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", ports.ami), 5.0)
            try:
                banner = await asyncio.wait_for(reader.readline(), 5.0)
            finally:
                writer.close()
                await writer.wait_closed()
        except (OSError, TimeoutError) as err:
            raise PbxError(f"asterisk {self.plan.name}: AMI on 127.0.0.1:{ports.ami} unreachable: {err}") from err
        if not banner.startswith(b"Asterisk Call Manager/"):
            raise PbxError(f"asterisk {self.plan.name}: 127.0.0.1:{ports.ami} is not its AMI (port taken?)\n"
                           f"{self._tail()}")

    async def apply(self, plan: PbxPlan) -> list[str]:
        """Rewrite the configuration for ``plan`` and reload what changed; returns the reload commands.

        Agents' endpoints are re-applied this way. The name and ports cannot change on a running
        instance (ValueError: stop and start instead). Serialised; safe to call concurrently.
        """
        if (plan.name, plan.ports) != (self.plan.name, self.plan.ports):
            raise ValueError("the instance name and ports need a restart, not apply()")
        async with self._lock:
            changed = await asyncio.to_thread(self._write, render(plan))
            self.plan = plan
            commands = [RELOADS[name] for name in changed if name in RELOADS]
            for command in commands:
                await self.cli(command)
            logger.info("pbx.applied name=%s changed=%s", plan.name, ",".join(changed) or "-")
            return commands

    async def stop(self, timeout_s: float = 10.0) -> None:
        """``core stop now``, then SIGKILL of its process group if it still runs. Idempotent."""
        pid = self._pid if self._pid is not None else running_pid(self.pid_file)
        if pid is not None and _alive(pid):
            with contextlib.suppress(PbxError, TimeoutError):
                await self.cli("core stop now", timeout_s=5.0)
            if not await self._exited(pid, timeout_s):
                logger.warning("pbx.stop.kill name=%s pid=%s", self.plan.name, pid)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                await self._exited(pid, 5.0)
        self.pid_file.unlink(missing_ok=True)
        self._pid = None
        self._process = None

    async def _exited(self, pid: int, timeout_s: float) -> bool:
        if self._process is not None:
            try:
                await asyncio.wait_for(self._process.wait(), timeout_s)
            except TimeoutError:
                return False
            return True
        deadline = time.monotonic() + timeout_s
        while _alive(pid):
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def cli(self, command: str, timeout_s: float = 30.0) -> str:
        """Run one CLI command over the instance's control socket (``asterisk -rx``); its output.

        Raises:
            PbxError: not running, or the command could not be delivered.
            TimeoutError: no answer within ``timeout_s``.
        """
        process = await asyncio.create_subprocess_exec(
            "chroot", str(self.root), ASTERISK, "-C", str(config_path(self.plan.name)), "-rx", command,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        try:
            output, _ = await asyncio.wait_for(process.communicate(), timeout_s)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise
        text = ANSI_COLOUR.sub("", output.decode("utf-8", "replace"))
        if process.returncode != 0 or text.startswith("Unable to connect to remote asterisk"):
            raise PbxError(f"asterisk -rx {command!r} failed ({process.returncode}): {text.strip()[:300]}")
        return text

    # -- files (run in a thread) -----------------------------------------------------------------
    def _prepare(self) -> bool:
        """Directories, stock and rendered files, loopback name service; True when /proc needs mounting."""
        for inside in (*instance_dirs(self.plan.name).values(), self.plan.recordings()):
            host_path(self.root, inside).mkdir(parents=True, exist_ok=True)
        (host_path(self.root, instance_dirs(self.plan.name)["astkeydir"]) / "keys").mkdir(exist_ok=True)
        etc = host_path(self.root, instance_dirs(self.plan.name)["astetcdir"])
        rendered = render(self.plan)
        stock = self.root / "etc" / "asterisk"
        for source in stock.iterdir() if stock.is_dir() else ():
            if source.is_file() and source.name not in rendered and source.name not in NOT_COPIED:
                shutil.copyfile(source, etc / source.name)
        self._write(rendered)
        # No name lookup may leave the machine: pjlib resolves the host name at start.
        hosts = f"127.0.0.1\tlocalhost\n127.0.1.1\t{os.uname().nodename}\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        for path, text in ((self.root / "etc/hosts", hosts), (self.root / "etc/resolv.conf", "nameserver 127.0.0.1\n")):
            if not path.is_file() or path.read_text() != text:  # shared: never truncate under a running instance
                _replace(path, text, 0o644)
        return not os.path.ismount(self.root / "proc")

    def _write(self, rendered: dict[str, str]) -> list[str]:
        """Write the files whose text differs; the names written, in order."""
        etc = host_path(self.root, instance_dirs(self.plan.name)["astetcdir"])
        changed = []
        for name, text in rendered.items():
            target = etc / name
            if not target.exists() or target.read_text() != text:
                _replace(target, text, 0o600)  # manager.conf and pjsip.conf hold secrets
                changed.append(name)
        return changed

    async def _mount_proc(self) -> None:
        """Mount the chroot's /proc once; it stays mounted, shared by every instance."""
        proc = self.root / "proc"
        mount = await asyncio.create_subprocess_exec("mount", "-t", "proc", "proc", str(proc),
                                                     stderr=asyncio.subprocess.PIPE)
        _, err = await mount.communicate()
        if mount.returncode != 0 and not await asyncio.to_thread(os.path.ismount, proc):  # another start won
            raise PbxError(f"mount {proc}: {err.decode(errors='replace').strip()}")

    def _tail(self, lines: int = 25) -> str:
        texts = []
        for path in (self.directory / "asterisk.out", self.log_path):
            if path.exists():
                texts.append(f"--- {path}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(texts) or "(no output)"


def _replace(path: Path, text: str, mode: int) -> None:
    """Write atomically: a reader sees the old text or the new one, never a truncated file."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    temporary.chmod(mode)
    temporary.replace(path)


def running_pid(pid_file: Path) -> int | None:
    """The PID in ``pid_file`` if that process still runs Asterisk, else None."""
    try:
        pid = int(pid_file.read_text().strip())
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if b"asterisk" in command and _alive(pid) else None


def _alive(pid: int) -> bool:
    """Running and not a zombie (a parent that never waits keeps the PID as a zombie)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


if __name__ == "__main__":
    from voice.pbx_cli import main

    main()
