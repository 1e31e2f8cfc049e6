"""``hub serve`` with HUB_VOICE__EMBEDDED: its own Asterisk, and the agents' phones generated from the
agent directory, re-applied when agents change (a new agent gets a phone, a disabled one loses it)."""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from hub.admin import create_agent, load_demo
from hub.bootstrap import agent_phone_account, running_hub
from hub.config import VoiceSettings
from hub.domain.ids import Role
from tests.conftest import eventually, make_settings
from tests.pbx_rig import ASTERISK_ROOT, setup
from voice.embedded import embedded_pbx
from voice.pbx import AsteriskInstance, host_path
from voice.pbx_config import PbxPlan, PbxPorts, instance_dir


async def test_the_embedded_asterisk_gets_the_agents_phones_and_follows_the_directory(
        db_name: str, mongo_url: str, redis_url: str, redis: Redis) -> None:
    setup()
    name = f"e{uuid.uuid4().hex[:10]}"
    settings = make_settings(db_name).model_copy(update={"voice": VoiceSettings(embedded=True, agi_port=0)})
    try:
        async with contextlib.AsyncExitStack() as stack:
            voice = await stack.enter_async_context(embedded_pbx(settings.voice, ASTERISK_ROOT, name))
            voice = voice.model_copy(update={"phones_sync_s": 0.2})
            hub = await stack.enter_async_context(running_hub(
                settings.model_copy(update={"voice": voice}), mongo_url=mongo_url, redis_url=redis_url))
            await load_demo(hub.context.directory)
            assert voice.phones_file is not None and voice.ami_port is not None
            pbx = AsteriskInstance(ASTERISK_ROOT, _plan_of(name))

            async def endpoints() -> str:
                return await pbx.cli("pjsip show endpoints")

            await eventually(lambda: _has(endpoints, "agent-alice"), timeout=30)
            listing = await endpoints()
            assert "agent-sara" in listing  # supervisors take calls too
            assert "agent-tom" not in listing and "agent-admin" not in listing  # trainer, admin: no phone
            conf = voice.phones_file.read_text()
            _, password = agent_phone_account(settings, "alice")
            assert f"password = {password}" in conf and oct(voice.phones_file.stat().st_mode)[-3:] == "600"
            # A new agent gets a phone; a disabled one loses it (the line re-reads the directory).
            await create_agent(hub.context.directory, username="zoe", display_name="Zoe", password="long-enough-pw",
                               role=Role.AGENT, skills=["general"], capacity={"voice": 1})
            await eventually(lambda: _has(endpoints, "agent-zoe"), timeout=30)
            alice = await hub.context.directory.agent_by_username("alice")
            assert alice is not None
            await hub.context.directory.update_agent(alice.id, {"disabled": True})
            await eventually(lambda: _lacks(endpoints, "agent-alice"), timeout=30)
    finally:
        shutil.rmtree(host_path(ASTERISK_ROOT, instance_dir(name)), ignore_errors=True)


def _plan_of(name: str) -> PbxPlan:
    """Only the instance's name matters for its CLI (its asterisk.conf names the control socket)."""
    return PbxPlan(name=name, ports=PbxPorts(5060, 5038, 10000, 10999), ami_user="hub", ami_secret="unused-secret",
                   agi_host="127.0.0.1", agi_port=4573)


async def _has(endpoints: Callable[[], Awaitable[str]], name: str) -> bool:
    return name in await endpoints()


async def _lacks(endpoints: Callable[[], Awaitable[str]], name: str) -> bool:
    return name not in await endpoints()
