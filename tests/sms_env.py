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
import re
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
                self.texts[mt.receiver].append(await self._joined(mt.receiver, parts))
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


    async def _joined(self, receiver: str, parts: list[MT]) -> str:
        """A concatenated message's text. The fake SMSC drops the coding of parts, and the bytes alone
        cannot tell (U+7535 in UTF-16BE is the ASCII "u5"): the coding is the one Kannel logged for
        the whole message it split (bearerbox's access log, ``[flags:mclass:coding:...]``)."""
        raw = b"".join(p.raw for p in sorted(parts, key=lambda p: p.part[2] if p.part else 0))
        if 0 in raw or not _utf8(raw):  # only UTF-16BE: no need to ask
            return raw.decode("utf-16-be", "replace")
        log = self.rig.dir / "access.log"
        for _ in range(100):  # the line is written when the SMSC acknowledged: poll for it, 5 s at most
            coding = logged_coding(log.read_text("utf-8", "replace") if log.exists() else "", receiver, raw)
            if coding is not None:
                return raw.decode("utf-16-be", "replace") if coding == UCS2_CODING else raw.decode("utf-8", "replace")
            await asyncio.sleep(0.05)
        return _guessed(raw)


UCS2_CODING = 2
_SENT = re.compile(r"Sent SMS .*?\[to:([^\]]*)\] \[flags:-?\d+:(-?\d+):[^\]]*\] \[msg:\d+:([0-9A-Fa-f]*)\]")


def logged_coding(access_log: str, receiver: str, raw: bytes) -> int | None:
    """The coding Kannel logged for the message to ``receiver`` whose bytes are ``raw``, if any."""
    for to, coding, data in _SENT.findall(access_log):
        if to.lstrip("+") == receiver.lstrip("+") and bytes.fromhex(data) == raw:
            return int(coding)
    return None


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _guessed(raw: bytes) -> str:
    """Without Kannel's word: UTF-8 unless it has NULs (UTF-16BE of Latin text) or is not UTF-8."""
    if 0 not in raw:
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
