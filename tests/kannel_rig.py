"""A private Kannel (bearerbox + smsbox + fake SMSC) on free loopback ports, through scripts/kannel.sh.

The one way tests, the contract harness and the benchmark run Kannel: ``scripts/kannel.sh start``
writes the config and starts the boxes, ``stop`` stops them by PID.
"""

from __future__ import annotations

import contextlib
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from hub.embedded import free_port

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "kannel.sh"


def install() -> None:
    subprocess.run([str(SCRIPT), "install"], check=True, timeout=600)


@dataclass
class KannelRig:
    """Ports and credentials of one Kannel; ``start``/``stop`` may be called again (outage drills)."""

    dir: Path
    mo_url: str
    max_messages: int = 10
    http_retries: int = 5  # smsbox's retries of a callback the hub did not take, 2 s apart
    admin_port: int = field(default_factory=free_port)
    box_port: int = field(default_factory=free_port)
    smsc_port: int = field(default_factory=free_port)
    sendsms_port: int = field(default_factory=free_port)
    user: str = "hub"
    password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    configured: bool = False

    @property
    def sendsms_url(self) -> str:
        return f"http://127.0.0.1:{self.sendsms_port}"

    def start(self) -> None:
        args = [str(SCRIPT), "start", str(self.dir)]
        if not self.configured:
            args += [str(self.admin_port), str(self.box_port), str(self.smsc_port), str(self.sendsms_port),
                     self.mo_url]
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "KANNEL_USER": self.user, "KANNEL_PASSWORD": self.password,
               "KANNEL_MAX_MESSAGES": str(self.max_messages), "KANNEL_HTTP_RETRIES": str(self.http_retries)}
        subprocess.run(args, check=True, timeout=60, env=env, stdout=subprocess.DEVNULL)
        self.configured = True

    def stop(self) -> None:
        subprocess.run([str(SCRIPT), "stop", str(self.dir)], check=True, timeout=60)


@contextlib.contextmanager
def running_kannel(directory: Path, mo_url: str, *, max_messages: int = 10,
                   http_retries: int = 5) -> Iterator[KannelRig]:
    """Install when missing, start, yield, stop whatever happened."""
    install()
    directory.mkdir(parents=True, exist_ok=True)
    rig = KannelRig(dir=directory, mo_url=mo_url, max_messages=max_messages, http_retries=http_retries)
    try:
        rig.start()
        yield rig
    finally:
        rig.stop()
