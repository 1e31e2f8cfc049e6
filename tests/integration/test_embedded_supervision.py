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
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from hub.bus import CHANNEL
from hub.embedded import free_port
from tests.clients import AgentClient, WidgetClient
from tests.conftest import eventually
from tests.integration.test_redis_outage import _heartbeats
from tests.integration.test_stopping import ROOT, Process, alive, descendants, log_text, serving


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


async def _bus_listens(redis_url: str) -> bool:
    client = Redis.from_url(redis_url)
    try:
        return bool((await client.pubsub_numsub(CHANNEL))[0][1])
    except RedisError:
        return False
    finally:
        await client.aclose()


@pytest.mark.parametrize("victim", ["redis-server", "secantusd"])
async def test_a_dead_embedded_service_is_started_again_and_the_hub_serves_on(tmp_path: Path, victim: str) -> None:
    port, log = free_port(), tmp_path / "serve.log"
    base_url = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items()
           if key not in {"HUB_MONGO_URL", "HUB_REDIS_URL", "HUB_BOT__RASA_URL"}}
    env.update(HUB_HTTP__PORT=str(port), HUB_EMBEDDED__DATA_DIR=str(tmp_path / "data"),
               HUB_ROUTING__TICK_S="0.1")
    with log.open("ab") as out:
        process = subprocess.Popen([sys.executable, "-m", "hub", "serve", "--demo"], cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        await eventually(lambda: serving(port, process, log), timeout=120, interval=0.2)
        await eventually(lambda: "Agent console:" in log_text(log), timeout=30)  # the demo data is in
        first = _one(descendants(process.pid), victim)
        os.kill(first[0], signal.SIGKILL)
        await eventually(lambda: not alive(first), timeout=10)

        def restarted() -> bool:
            now = {p for p, cmd in descendants(process.pid).items() if victim in cmd}
            return bool(now) and first not in now

        await eventually(restarted, timeout=60, interval=0.2)
        await eventually(lambda: _ready(base_url), timeout=60, interval=0.2)
        # /readyz can answer 200 a moment before the supervisor writes its line about the restart
        await eventually(lambda: "embedded.restarted name=" in log_text(log), timeout=30, interval=0.1)
        # The bus is at-most-once (hub/bus.py): a fact published before the hub's listener has
        # subscribed to the new Redis again is lost, an offer frame included. Customers come back
        # once it listens again (a known gap of the restart window, see the closing notes).
        redis_url = re.findall(r"embedded\.started mongo=\S+ redis=(\S+)", log_text(log))[0]
        await eventually(lambda: _bus_listens(redis_url), timeout=60, interval=0.2)
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
    finally:
        started = descendants(process.pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(process.wait, 30)
        for left in (p for p in started if alive(p)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(left[0], signal.SIGKILL)
