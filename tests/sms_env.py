"""A hub wired to a real Kannel with a fake SMSC: the SMS test environment of the integration tests and
the contract harness.

``sms_environment`` starts Kannel (scripts/kannel.sh, free ports, config in a temp dir), a hub on a
fixed free port with SMS enabled (the MO get-url must know the port), and connects the fake SMSC.
``received(address)`` collects what the fake operator got per phone number, joining the parts of
concatenated messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import tempfile
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from pydantic import SecretStr

from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.config import HttpSettings, Settings, SmsSettings
from hub.embedded import free_port
from tests.conftest import make_settings
from tests.fake_smsc import MT, FakeSMSC
from tests.kannel_rig import KannelRig, running_kannel

SHORT_CODE = "10086"


@dataclass
class SmsEnv:
    hub: RunningHub
    rig: KannelRig
    secret: str
    smsc: FakeSMSC
    texts: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    _parts: dict[tuple[str, int], list[MT]] = field(default_factory=dict)
    _collector: asyncio.Task[None] | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def mo_url(self) -> str:
        return f"{self.hub.base_url}/channels/sms/mo"

    async def _collect(self) -> None:
        while True:
            mt = await self.smsc.mt.get()
            if mt.part is None:
                self.texts[mt.receiver].append(mt.text())
            else:
                ref, total, _ = mt.part
                parts = self._parts.setdefault((mt.receiver, ref), [])
                parts.append(mt)
                if len(parts) < total:
                    continue
                del self._parts[(mt.receiver, ref)]
                self.texts[mt.receiver].append(_joined(parts))
            self._arrived.set()

    def start_collecting(self) -> None:
        self._collector = asyncio.create_task(self._collect(), name="tests:sms-collector")

    async def stop_collecting(self) -> None:
        if self._collector is not None:
            self._collector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._collector

    async def received(self, address: str, timeout_s: float = 10.0, *, count: int = 1,
                       settle_s: float = 0.5) -> list[str]:
        """Texts at ``address`` once at least ``count`` arrived and nothing more came for ``settle_s``."""
        key = address
        async with asyncio.timeout(timeout_s):
            while len(self.texts[key]) < count:
                self._arrived.clear()
                await self._arrived.wait()
        while True:
            seen = len(self.texts[key])
            await asyncio.sleep(settle_s)
            if len(self.texts[key]) == seen:
                return list(self.texts[key])

    async def kannel_down(self) -> None:
        await self.stop_collecting()
        await self.smsc.__aexit__(None, None, None)
        await asyncio.to_thread(self.rig.stop)

    async def kannel_up(self) -> None:
        await asyncio.to_thread(self.rig.start)
        self.smsc = await FakeSMSC(self.rig.smsc_port).__aenter__()
        self.start_collecting()


def _joined(parts: list[MT]) -> str:
    raw = b"".join(p.raw for p in sorted(parts, key=lambda p: p.part[2] if p.part else 0))
    if 0 not in raw:  # the fake SMSC drops the coding of parts: UTF-8 (7-bit) or UTF-16BE (UCS-2)
        with contextlib.suppress(UnicodeDecodeError):
            return raw.decode("utf-8")
    return raw.decode("utf-16-be", "replace")


def sms_settings(db_name: str, port: int, rig: KannelRig, secret: str, **sms: object) -> Settings:
    base = make_settings(db_name)
    return base.model_copy(update={
        "http": HttpSettings(host="127.0.0.1", port=port),
        "sms": SmsSettings(kannel_url=rig.sendsms_url, username=rig.user, password=SecretStr(rig.password),
                           secret=SecretStr(secret), sender=SHORT_CODE, **sms),
    })


@contextlib.asynccontextmanager
async def sms_environment(*, mongo_url: str, redis_url: str, db_name: str, directory: Path | None = None,
                          settings_update: Mapping[str, Any] | None = None, **sms: object) -> AsyncIterator[SmsEnv]:
    """Kannel + hub (demo data loaded) + connected fake SMSC; everything stopped on exit."""
    with contextlib.ExitStack() as temp:
        if directory is None:
            directory = Path(temp.enter_context(tempfile.TemporaryDirectory(prefix="kannel-")))
        port = free_port()
        secret = secrets.token_urlsafe(24)
        mo_url = f"http://127.0.0.1:{port}/channels/sms/mo?secret={secret}"
        kannel = running_kannel(directory / "kannel", mo_url)
        rig = await asyncio.to_thread(kannel.__enter__)
        try:
            settings = sms_settings(db_name, port, rig, secret, **sms).model_copy(update=dict(settings_update or {}))
            async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as hub:
                await load_demo(hub.context.directory)
                env = SmsEnv(hub=hub, rig=rig, secret=secret, smsc=await FakeSMSC(rig.smsc_port).__aenter__())
                env.start_collecting()
                try:
                    yield env
                finally:
                    await env.stop_collecting()
                    await env.smsc.__aexit__(None, None, None)
        finally:
            await asyncio.to_thread(kannel.__exit__, None, None, None)


async def get(url: str, params: dict[str, str] | None = None) -> tuple[int, str]:
    """One GET with a fresh session (the fuzz tests' raw client)."""
    async with aiohttp.ClientSession() as http, http.get(url, params=params) as response:
        return response.status, await response.text()
