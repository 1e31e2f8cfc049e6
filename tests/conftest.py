"""Test harness: real SecantusDB and redis-server on free loopback ports, started once per session.

``HUB_TEST_MONGO_URL`` points the suite at a real mongod instead. Each test gets its own
database and a flushed Redis, so tests never see each other's data.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis

from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.config import (
    BotSettings,
    EmbeddedSettings,
    HttpSettings,
    RoutingSettings,
    Settings,
    SurveySettings,
    WebChatSettings,
)
from hub.embedded import RunningService, free_port, start_redis, start_secantus, stop
from hub.storage.database import Db, connect
from hub.storage.directory import MongoDirectory
from tests.clients import AgentClient

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: object) -> None:
    """Guard: the suite never talks to anything but this machine's loopback."""
    if isinstance(address, tuple) and address and isinstance(address[0], str):
        host = address[0]
        try:
            if not ipaddress.ip_address(host).is_loopback:
                raise OSError(f"test tried to reach non-loopback address {host}")
        except ValueError:
            if host != "localhost":
                raise OSError(f"test tried to resolve {host}") from None
    _real_connect(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True, scope="session")
def loopback_guard() -> Iterator[None]:
    socket.socket.connect = _loopback_only  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def mongo_url(artifacts: Path) -> Iterator[str]:
    external = os.environ.get("HUB_TEST_MONGO_URL")
    if external:
        yield external
        return
    service = start_secantus(None, artifacts / "secantus.log")
    try:
        yield service.url
    finally:
        stop(service)


@pytest.fixture(scope="session")
def redis_service(artifacts: Path) -> Iterator[RunningService]:
    service = start_redis(None, artifacts / "redis.log")
    try:
        yield service
    finally:
        stop(service)


@pytest.fixture(scope="session")
def redis_url(redis_service: RunningService) -> str:
    return redis_service.url


RASA_SCRIPT = str(Path(__file__).resolve().parent.parent / "scripts" / "rasa.sh")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules with a test that needs Rasa's venv run last, whole and in their order: scripts/test.sh
    installs the venv and trains the shipped model in the background while the others run."""
    needs_rasa = {item.module.__name__ for item in items  # type: ignore[attr-defined]
                  if "rasa_venv" in getattr(item, "fixturenames", ()) and getattr(item, "module", None)}
    items.sort(key=lambda item: getattr(getattr(item, "module", None), "__name__", "") in needs_rasa)


@pytest.fixture(scope="session")
def rasa_venv() -> Path:
    """Rasa's own venv (scripts/rasa.sh install: done once; waits for an install under way)."""
    subprocess.run([RASA_SCRIPT, "install"], check=True, timeout=1800)
    return Path(__file__).resolve().parent.parent / ".rasa-venv"


@pytest.fixture(scope="session")
def rasa_url(artifacts: Path, rasa_venv: Path) -> Iterator[str]:
    """A real Rasa server (own venv, trained project) on a free loopback port; see scripts/rasa.sh."""
    script = RASA_SCRIPT
    subprocess.run([script, "train"], check=True, timeout=1800, stdout=subprocess.DEVNULL)
    port = free_port()
    # Always the shipped model, whatever a developer activated locally (bot/rasa_project/models/active.tar.gz).
    subprocess.run([script, "start", str(port), str(artifacts / "rasa.log")], check=True, timeout=400,
                   stdout=subprocess.DEVNULL, env={**os.environ, "RASA_ACTIVE_MODEL": "/nonexistent"})
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        subprocess.run([script, "stop", str(port)], check=False, timeout=60)


@pytest.fixture
async def agent(hub: RunningHub) -> AsyncIterator[AgentClient]:
    """Alice, logged in, console connected, available."""
    alice = await AgentClient.online(hub.base_url, "alice")
    yield alice
    await alice.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def db_name() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    await client.flushdb()
    yield client
    await client.aclose()


def make_settings(db_name: str, **routing: float) -> Settings:
    return Settings(
        mongo_db=db_name,
        http=HttpSettings(host="127.0.0.1", port=0),
        routing=RoutingSettings(**{"offer_timeout_s": 5.0, "presence_ttl_s": 30.0, "tick_s": 0.1, **routing}),
        # Every test customer connects from 127.0.0.1: one client address for all of them
        # (tests/integration/test_webchat_limits.py checks the per-address limits themselves).
        webchat=WebChatSettings(identities_burst=100_000, conversations_burst=100_000, connections_burst=100_000),
        embedded=EmbeddedSettings(),
        # Surveys ask a resolved conversation's customer once more: off unless a test is about them
        # (tests/integration/test_surveys*.py), so other tests' customers get only what they expect.
        surveys=SurveySettings(enabled=False),
    )


@pytest.fixture
def settings(db_name: str) -> Settings:
    return make_settings(db_name)


@pytest.fixture
async def hub(settings: Settings, mongo_url: str, redis_url: str, redis: Redis) -> AsyncIterator[RunningHub]:
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as running:
        await load_demo(running.context.directory)
        yield running


@pytest.fixture
async def bot_hub(mongo_url: str, redis_url: str, redis: Redis, db_name: str,
                  rasa_url: str) -> AsyncIterator[RunningHub]:
    """A hub with the real Rasa bot in front of every conversation, demo data loaded."""
    settings = make_settings(db_name).model_copy(update={"bot": BotSettings(rasa_url=rasa_url, timeout_s=10.0)})
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as running:
        await load_demo(running.context.directory)
        yield running


@pytest.fixture
async def db(mongo_url: str, db_name: str) -> AsyncIterator[Db]:
    """The test's database, read directly: what the hub stored, as stored."""
    client = connect(mongo_url)
    yield client[db_name]
    await client.close()


@pytest.fixture
async def directory(mongo_url: str, db_name: str) -> AsyncIterator[MongoDirectory]:
    client = connect(mongo_url)
    yield MongoDirectory(client[db_name])
    await client.close()


async def eventually(predicate, timeout: float = 10.0, interval: float = 0.05):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` (sync or async) until it returns a truthy value; fail at the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)
