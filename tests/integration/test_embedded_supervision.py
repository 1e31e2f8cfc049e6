"""``hub serve`` on its embedded services keeps them running: a redis-server or SecantusDB that
dies is started again on the same port, and the hub serves customers again without a restart."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from hub.bus import CHANNEL
from hub.clock import parse_iso
from hub.embedded import free_port
from tests.clients import AgentClient, WidgetClient
from tests.conftest import eventually
from tests.integration.test_redis_outage import _heartbeats
from tests.integration.test_stopping import ROOT, Process, alive, descendants, log_text, serving

OFFER_TIMEOUT_S = 20.0  # the demo's (HUB_ROUTING__OFFER_TIMEOUT_S)


def _one(processes: dict[Process, str], name: str) -> Process:
    found = [p for p, cmd in processes.items() if name in cmd]
    assert len(found) == 1, processes
    return found[0]


async def _ready(base_url: str) -> bool:
    try:
        async with aiohttp.ClientSession() as http, http.get(base_url + "/readyz") as resp:
            return resp.status == 200
    except aiohttp.ClientError:
        return False


async def _answers(redis_url: str) -> bool:
    client = Redis.from_url(redis_url)
    try:
        return bool(await client.ping())
    except RedisError:
        return False
    finally:
        await client.aclose()


@contextlib.asynccontextmanager
async def _serving(tmp_path: Path) -> AsyncIterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    """``hub serve --demo`` on its embedded services, its demo data in; stopped after."""
    port, log = free_port(), tmp_path / "serve.log"
    env = {key: value for key, value in os.environ.items()
           if key not in {"HUB_MONGO_URL", "HUB_REDIS_URL", "HUB_BOT__RASA_URL"}}
    env.update(HUB_HTTP__PORT=str(port), HUB_EMBEDDED__DATA_DIR=str(tmp_path / "data"),
               HUB_ROUTING__TICK_S="0.1", HUB_ROUTING__OFFER_TIMEOUT_S=str(OFFER_TIMEOUT_S))
    with log.open("ab") as out:
        process = subprocess.Popen([sys.executable, "-m", "hub", "serve", "--demo"], cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        await eventually(lambda: serving(port, process, log), timeout=120, interval=0.2)
        await eventually(lambda: "Agent console:" in log_text(log), timeout=30)  # the demo data is in
        yield f"http://127.0.0.1:{port}", log, process
    finally:
        started = descendants(process.pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
        try:
            await asyncio.to_thread(process.wait, 30)
        except subprocess.TimeoutExpired:  # never left running (its Popen would warn when collected)
            process.kill()
            await asyncio.to_thread(process.wait, 10)
        for left in (p for p in started if alive(p)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(left[0], signal.SIGKILL)


async def _kill_and_wait_for_the_restart(process: subprocess.Popen[bytes], victim: str) -> None:
    first = _one(descendants(process.pid), victim)
    os.kill(first[0], signal.SIGKILL)
    await eventually(lambda: not alive(first), timeout=10)

    def restarted() -> bool:
        now = {p for p, cmd in descendants(process.pid).items() if victim in cmd}
        return bool(now) and first not in now

    await eventually(restarted, timeout=60, interval=0.2)


@pytest.mark.parametrize("victim", ["redis-server", "secantusd"])
async def test_a_dead_embedded_service_is_started_again_and_the_hub_serves_on(tmp_path: Path, victim: str) -> None:
    async with _serving(tmp_path) as (base_url, log, process):
        await _kill_and_wait_for_the_restart(process, victim)
        # Ready again means MongoDB and Redis answer and the bus listens again (ADR 0060).
        await eventually(lambda: _ready(base_url), timeout=60, interval=0.2)
        # /readyz can answer 200 a moment before the supervisor writes its line about the restart
        await eventually(lambda: "embedded.restarted name=" in log_text(log), timeout=30, interval=0.1)
        # Customers and agents carry on: demo data survived (SecantusDB keeps its folder), routing
        # rebuilt what Redis lost, and a new conversation reaches an available agent.
        alice = await AgentClient.online(base_url, "alice")
        async with aiohttp.ClientSession() as http:
            widget = WidgetClient(base_url, http)
            await widget.connect()
            asked = await widget.say("is the hub back?")
            # A rebuild after the restart may clear her presence again: the console's heartbeats
            # (every 10 s; here every second) bring it back.
            heartbeats = asyncio.create_task(_heartbeats(alice))
            try:
                offer = await alice.next("offer", timeout=30, conversation__id=asked["conversation_id"])
            finally:
                heartbeats.cancel()
                await alice.close()
            assert offer["type"] == "offer"


async def _quick_heartbeats(agent: AgentClient) -> None:
    assert agent.ws is not None
    while True:
        await agent.ws.send_json({"type": "heartbeat"})
        await asyncio.sleep(0.2)


async def test_an_offer_made_before_the_bus_listens_again_reaches_the_console_already_connected(
        tmp_path: Path) -> None:
    """An offer made after Redis is back but before the hub's bus listens again reaches the console
    already connected: it is the process's own fact, handed to its console sockets when published
    (ADR 0074), not lost on the way through Redis as it was (ADR 0060 then sent it again on the
    re-subscription, which still covers the facts of other processes). The bus still notices its
    re-subscription.

    The window is held open on purpose: once the restarted Redis answers, it refuses SUBSCRIBE and
    drops any listener already back; the offer is made; then SUBSCRIBE is allowed again."""
    async with _serving(tmp_path) as (base_url, log, process):
        redis_url = re.findall(r"embedded\.started mongo=\S+ redis=(\S+)", log_text(log))[0]
        alice = await AgentClient.online(base_url, "alice")  # her console stays connected throughout
        heartbeats: asyncio.Task[None] | None = None
        async with aiohttp.ClientSession() as http:
            widget = WidgetClient(base_url, http)
            await widget.connect()
            await _kill_and_wait_for_the_restart(process, "redis-server")
            await eventually(lambda: _answers(redis_url), timeout=60, interval=0.02)
            redis = Redis.from_url(redis_url)
            try:
                await redis.execute_command("ACL", "SETUSER", "default", "-subscribe")
                await redis.client_kill_filter(_type="pubsub")  # a listener that was back first
                assert (await redis.pubsub_numsub(CHANNEL))[0][1] == 0
                # Her console's heartbeats bring her presence back; the customer writes.
                heartbeats = asyncio.create_task(_quick_heartbeats(alice))
                asked = await widget.say("is the hub back?")
                # Sooner than the offer's timeout: the first offer, not the one made again after it.
                offer = await alice.next("offer", timeout=OFFER_TIMEOUT_S * 0.75,
                                         conversation__id=asked["conversation_id"])
                assert (await redis.pubsub_numsub(CHANNEL))[0][1] == 0  # it came with no bus listening
                await redis.execute_command("ACL", "SETUSER", "default", "+subscribe")
                await eventually(lambda: "bus.resubscribed" in log_text(log), timeout=30, interval=0.1)
            finally:
                if heartbeats is not None:
                    heartbeats.cancel()
                await alice.close()
                await redis.aclose()
        assert parse_iso(offer["expires_at"]) > datetime.now(UTC)  # still hers to accept
