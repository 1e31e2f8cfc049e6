"""Login throttling: per-account and per-address backoff shared through Redis, answered 429 with
Retry-After the same way for names that exist and names that do not, and a bounded argon2 pool
that answers a flood 503 quickly instead of queueing it behind every other login."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
from redis.asyncio import Redis

from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.config import LoginSettings
from hub.embedded import free_port
from hub.login_limits import RedisLoginThrottle
from tests.conftest import eventually, make_settings

DEMO = "northgrid-demo"


@pytest.fixture
def login_settings() -> LoginSettings:
    return LoginSettings(account_free_failures=3, address_free_failures=1000, backoff_base_s=2)


@pytest.fixture
async def guarded_hub(login_settings: LoginSettings, db_name: str, mongo_url: str, redis_url: str,
                      redis: Redis) -> AsyncIterator[RunningHub]:
    settings = make_settings(db_name).model_copy(update={"login": login_settings})
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as running:
        await load_demo(running.context.directory)
        yield running


async def attempt(http: aiohttp.ClientSession, hub: RunningHub, username: str,
                  password: str) -> tuple[int, str, str | None]:
    async with http.post(f"{hub.base_url}/api/login", json={"username": username, "password": password}) as resp:
        data = await resp.json()
        code = data["error"]["code"] if resp.status != 200 else "ok"
        return resp.status, code, resp.headers.get("Retry-After")


async def test_bad_passwords_back_off_the_account_alike_for_unknown_names(guarded_hub: RunningHub) -> None:
    async with aiohttp.ClientSession() as http:
        for name in ("no-such-agent", "alice"):
            answers = [await attempt(http, guarded_hub, name, "wrong-password") for _ in range(4)]
            assert [a[:2] for a in answers] == [(401, "bad_credentials")] * 3 + [(429, "too_many_attempts")], name
            assert answers[3][2] is not None and int(answers[3][2]) >= 1, "429 says when to come back"
        locked = await attempt(http, guarded_hub, "alice", DEMO)
        assert locked[:2] == (429, "too_many_attempts"), "the right password waits out the backoff too"
        assert (await attempt(http, guarded_hub, "bob", DEMO))[0] == 200, "other accounts are not affected"

        async def alice_logs_in() -> bool:
            return (await attempt(http, guarded_hub, "alice", DEMO))[0] == 200

        await eventually(alice_logs_in, timeout=30, interval=0.1)
        assert (await attempt(http, guarded_hub, "alice", "wrong-password"))[0] == 401, "success reset the count"


@pytest.mark.parametrize("login_settings", [LoginSettings(account_free_failures=100, address_free_failures=5,
                                                          backoff_base_s=60)])
async def test_one_address_trying_many_names_is_backed_off(guarded_hub: RunningHub) -> None:
    async with aiohttp.ClientSession() as http:
        answers = [(await attempt(http, guarded_hub, f"guess{n}", "password"))[0] for n in range(6)]
        assert answers == [401] * 5 + [429]
        assert (await attempt(http, guarded_hub, "alice", DEMO))[0] == 429, "the address waits, whatever the name"


async def test_the_count_is_shared_by_every_process(redis: Redis) -> None:
    settings = LoginSettings(account_free_failures=2, backoff_base_s=60)
    first, second = RedisLoginThrottle(redis, settings), RedisLoginThrottle(redis, settings)
    assert await first.attempt("carol", "10.0.0.1") == 0
    assert await second.attempt("carol", "10.0.0.2") == 0
    assert await first.attempt("carol", "10.0.0.3") > 0, "two attempts in all, not two per process"
    assert 0 < await redis.pttl("hub:login:account:carol") <= (3600 + 900) * 1000, "idle counts expire"


@pytest.mark.parametrize("login_settings", [LoginSettings(address_free_failures=100_000, account_free_failures=5,
                                                          hash_threads=1, hash_queue=3)])
async def test_a_flood_of_bad_logins_is_bounded_and_a_good_login_gets_through(guarded_hub: RunningHub) -> None:
    pool = guarded_hub.context.hashing
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        stop = asyncio.Event()
        answers: list[tuple[int, str, str | None]] = []

        async def flood() -> None:
            while not stop.is_set():
                answers.append(await attempt(http, guarded_hub, uuid.uuid4().hex, "wrong-password"))
                if answers[-1][0] == 503:
                    await asyncio.sleep(0.02)  # pacing, to spare the test machine's CPU; not a wait for state

        flooders = [asyncio.create_task(flood(), name=f"test:flood:{n}") for n in range(40)]
        try:
            await eventually(lambda: any(status == 503 for status, _, _ in answers), timeout=60)

            async def alice_logs_in() -> bool:  # what the console does: retry after a 503
                return (await attempt(http, guarded_hub, "alice", DEMO))[0] == 200

            await eventually(alice_logs_in, timeout=60, interval=0.2)
        finally:
            stop.set()
            await asyncio.gather(*flooders)
    busy = [a for a in answers if a[0] == 503]
    assert all(code == "busy" and retry == "1" for _, code, retry in busy)
    assert {status for status, _, _ in answers} <= {401, 503}
    assert pool.peak_admitted <= 1 + 3, "never more argon2 work admitted than threads + queue"
    assert pool.rejected >= len(busy)


async def test_without_redis_each_process_counts_on_its_own() -> None:
    gone = Redis(port=free_port(), socket_connect_timeout=0.2)  # nothing listens there
    throttle = RedisLoginThrottle(gone, LoginSettings(account_free_failures=2, address_free_failures=3,
                                                      backoff_base_s=60))
    assert await throttle.attempt("dan", "10.0.0.9") == 0  # finds Redis gone
    await throttle.failed("dan", "10.0.0.9")
    assert await throttle.attempt("dan", "10.0.0.9") == 0
    await throttle.failed("dan", "10.0.0.9")
    assert await throttle.attempt("dan", "10.0.0.9") > 0, "the account backs off"
    assert await throttle.attempt("erin", "10.0.0.9") == 0
    await throttle.failed("erin", "10.0.0.9")
    assert await throttle.attempt("erin", "10.0.0.9") > 0, "three failures from the address"
    assert await throttle.attempt("erin", "10.0.0.10") == 0, "erin's own count is still low"
    await throttle.succeeded("erin")
    await gone.aclose()


async def test_behind_a_trusted_proxy_the_forwarded_address_is_backed_off(
        db_name: str, mongo_url: str, redis_url: str, redis: Redis) -> None:
    base = make_settings(db_name)
    settings = base.model_copy(update={
        "login": LoginSettings(account_free_failures=100, address_free_failures=2, backoff_base_s=60),
        "http": base.http.model_copy(update={"trusted_proxies": ["127.0.0.1"]})})
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as hub, aiohttp.ClientSession() as http:
        await load_demo(hub.context.directory)

        async def status(forwarded_for: str, username: str, password: str = "wrong-password") -> int:
            async with http.post(f"{hub.base_url}/api/login", json={"username": username, "password": password},
                                 headers={"X-Forwarded-For": forwarded_for}) as resp:
                return resp.status

        assert [await status("203.0.113.9", f"guess{n}") for n in range(3)] == [401, 401, 429]
        assert await status("6.6.6.6, 203.0.113.9", "alice", DEMO) == 429, "a client-written hop changes nothing"
        assert await status("203.0.113.10", "alice", DEMO) == 200, "another customer behind the same proxy"
