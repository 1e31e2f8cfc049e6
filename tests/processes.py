"""Hub processes for tests that need several of them, or must SIGKILL one."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp

from hub.embedded import free_port

TEST_SECRET = "test-secret-0123456789abcdef0123456789abcdef"
# Every test customer connects from 127.0.0.1: one address for hundreds of visitors.
MANY_CUSTOMERS_ON_LOOPBACK = {"HUB_WEBCHAT__IDENTITIES_BURST": "100000",
                              "HUB_WEBCHAT__CONVERSATIONS_BURST": "100000",
                              "HUB_WEBCHAT__CONNECTIONS_BURST": "100000",
                              "HUB_SURVEYS__ENABLED": "false"}  # as tests/conftest.py:make_settings


class HubProcess:
    """``python -m hub serve`` against given MongoDB/Redis URLs on a fixed loopback port."""

    def __init__(self, *, mongo_url: str, redis_url: str, db_name: str, log_path: Path,
                 port: int | None = None, **settings: str) -> None:
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = {**os.environ, "HUB_MONGO_URL": mongo_url, "HUB_REDIS_URL": redis_url,
                    "HUB_MONGO_DB": db_name, "HUB_HTTP__PORT": str(self.port), "HUB_SECRET_KEY": TEST_SECRET,
                    **MANY_CUSTOMERS_ON_LOOPBACK, **{f"HUB_{k.upper()}": v for k, v in settings.items()}}
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self, timeout: float = 30.0) -> HubProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "hub", "serve"], env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = asyncio.get_running_loop().time() + timeout
        async with aiohttp.ClientSession() as http:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"hub exited with {self.process.returncode}; the end of its log:\n"
                                       + self.log_tail())
                try:
                    async with http.get(self.base_url + "/console/login") as resp:
                        if resp.status == 200:
                            return self
                except aiohttp.ClientConnectionError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError("hub did not start; the end of its log:\n" + self.log_tail())
                await asyncio.sleep(0.1)

    def log_tail(self, lines: int = 40) -> str:
        """The log's last lines, for a failure message (CI keeps the output, not the files)."""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, exactly like a crash."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
