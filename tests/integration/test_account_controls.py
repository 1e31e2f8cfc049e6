"""Password change, disabling an agent and revoking sessions, over the console API of a real hub;
revocation reaches the other hub processes through the Redis bus (their cached sessions and
console sockets end at once)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator

import aiohttp
import pytest
from redis.asyncio import Redis

from hub.bootstrap import RunningHub
from hub.storage.database import Db
from hub.storage.sessions import MongoSessionStore
from tests.bus_gap import deaf_bus
from tests.clients import AgentClient
from tests.conftest import eventually

DEMO = "northgrid-demo"


@pytest.fixture
async def clients(hub: RunningHub) -> AsyncIterator[list[AgentClient]]:
    opened: list[AgentClient] = []
    yield opened
    for client in opened:
        await client.close()


async def login(hub: RunningHub, clients: list[AgentClient], name: str, password: str = DEMO) -> AgentClient:
    client = await AgentClient(hub.base_url).login(name, password)
    clients.append(client)
    return client


async def login_status(hub: RunningHub, name: str, password: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.post(
            f"{hub.base_url}/api/login", json={"username": name, "password": password}) as resp:
        data = await resp.json()
        return resp.status, data["error"]["code"] if resp.status != 200 else "ok"


async def test_an_agent_changes_her_password_and_her_other_sessions_end(
        hub: RunningHub, clients: list[AgentClient]) -> None:
    here, elsewhere = await login(hub, clients, "alice"), await login(hub, clients, "alice")
    await elsewhere.call("GET", "/api/me")  # cached in this process
    wrong = await here.call("POST", "/api/me/password", {"current_password": "not-it-at-all",
                                                         "new_password": "a-brand-new-password"}, expect=403)
    assert wrong["error"]["code"] == "bad_credentials"
    short = await here.call("POST", "/api/me/password", {"current_password": DEMO, "new_password": "2short"},
                            expect=400)
    assert "at least 10 characters" in short["error"]["message"]
    await here.call("POST", "/api/me/password", {"current_password": DEMO, "new_password": "a-brand-new-password"})
    await here.call("GET", "/api/me")
    await elsewhere.call("GET", "/api/me", expect=401)
    assert await login_status(hub, "alice", DEMO) == (401, "bad_credentials")
    assert await login_status(hub, "alice", "a-brand-new-password") == (200, "ok")


async def test_an_agent_revokes_her_other_sessions(hub: RunningHub, clients: list[AgentClient]) -> None:
    here, elsewhere, third = [await login(hub, clients, "bob") for _ in range(3)]
    await elsewhere.call("GET", "/api/me")
    assert (await here.call("POST", "/api/me/sessions/revoke"))["revoked"] == 2
    await here.call("GET", "/api/me")
    await elsewhere.call("GET", "/api/me", expect=401)
    await third.call("GET", "/api/me", expect=401)


async def test_only_admins_manage_other_accounts(hub: RunningHub, clients: list[AgentClient]) -> None:
    sara = await login(hub, clients, "sara")  # a supervisor is not enough
    for path, body in (("/api/agents/bob/password", {"new_password": "a-long-new-password"}),
                       ("/api/agents/bob/disable", None), ("/api/agents/bob/sessions/revoke", None)):
        assert (await sara.call("POST", path, body, expect=403))["error"]["code"] == "forbidden"
    admin = await login(hub, clients, "admin")
    await admin.call("POST", "/api/agents/nobody/disable", expect=404)
    assert (await admin.call("POST", "/api/agents/admin/disable", expect=400))["error"]["code"] == "invalid_input"


async def test_admin_sets_a_password_and_the_agents_sessions_end(hub: RunningHub,
                                                                  clients: list[AgentClient]) -> None:
    admin, chen = await login(hub, clients, "admin"), await login(hub, clients, "chen")
    await chen.call("GET", "/api/me")
    await admin.call("POST", "/api/agents/chen/password", {"new_password": "set-by-the-admin"})
    await chen.call("GET", "/api/me", expect=401)
    assert await login_status(hub, "chen", "set-by-the-admin") == (200, "ok")
    await admin.call("POST", "/api/agents/chen/sessions/revoke")


async def test_a_disabled_agent_is_logged_out_off_routing_and_cannot_log_in(
        hub: RunningHub, clients: list[AgentClient]) -> None:
    admin = await login(hub, clients, "admin")
    bob = await AgentClient.online(hub.base_url, "bob")
    clients.append(bob)
    assert (await hub.routing.overview())["agents"][bob.agent["id"]]["status"] == "available"

    disabled = await admin.call("POST", "/api/agents/bob/disable")
    assert disabled["agent"]["disabled"] is True
    await bob.call("GET", "/api/me", expect=401)
    assert (await hub.routing.overview())["agents"][bob.agent["id"]]["status"] == "offline"
    with pytest.raises(ConnectionError):
        await bob.next("never", timeout=10)  # the console socket is closed
    assert await login_status(hub, "bob", DEMO) == (403, "account_disabled")
    assert await login_status(hub, "bob", "wrong-password") == (401, "bad_credentials")

    await admin.call("POST", "/api/agents/bob/enable")
    assert await login_status(hub, "bob", DEMO) == (200, "ok")


async def test_cli_revocation_reaches_a_running_hub_at_once(hub: RunningHub, clients: list[AgentClient],
                                                            mongo_url: str, redis_url: str) -> None:
    alice = await AgentClient.online(hub.base_url, "alice")
    clients.append(alice)
    await alice.call("GET", "/api/me")  # cached: only the bus can end it before the cache's TTL
    env = {**os.environ, "HUB_MONGO_URL": mongo_url, "HUB_REDIS_URL": redis_url,
           "HUB_MONGO_DB": hub.context.settings.mongo_db}
    done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "hub", "agent", "revoke-sessions", "alice"],
                                   env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    with pytest.raises(ConnectionError):
        await alice.next("never", timeout=10)  # the socket closed on the bus event, not by a timeout

    async def logged_out() -> bool:
        async with alice.session.get(f"{hub.base_url}/api/me") as resp:
            return resp.status == 401

    await eventually(logged_out)


async def test_a_revocation_lost_in_a_bus_gap_closes_the_socket_once_the_bus_is_back(
        hub: RunningHub, clients: list[AgentClient], redis: Redis, db: Db) -> None:
    """ADR 0066: another process revokes alice's sessions while this hub's bus is deaf, so the fact
    is lost; on re-subscription the hub reads the session of every open socket again and closes hers.
    Bob's socket, whose session holds, stays open."""
    bob = await AgentClient.online(hub.base_url, "bob")  # connected first: checked before alice
    alice = await AgentClient.online(hub.base_url, "alice")
    clients.extend([bob, alice])
    async with deaf_bus(redis):
        assert await MongoSessionStore(db).delete_for_agent(alice.agent["id"]) == 1  # as the CLI would
    with pytest.raises(ConnectionError):
        await alice.next("never", timeout=30)  # closed on the re-subscription, not by a timeout
    await bob.next("resync", timeout=10)  # he had the gap too
    assert bob.ws is not None and not bob.ws.closed
    await bob.call("GET", "/api/me")
    async with alice.session.get(f"{hub.base_url}/api/me") as resp:
        assert resp.status == 401
