"""The administration CLI against a real MongoDB."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from hub.admin import load_demo
from hub.passwords import verify_password
from hub.storage.database import Db
from hub.storage.directory import MongoDirectory
from hub.storage.sessions import MongoSessionStore


def hub_cli(mongo_url: str, db_name: str, *args: str, stdin: str = "",
            **env_vars: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HUB_MONGO_URL": mongo_url, "HUB_MONGO_DB": db_name, **env_vars}
    env = {name: value for name, value in env.items() if value}  # "" unsets a variable
    return subprocess.run([sys.executable, "-m", "hub", *args], input=stdin, env=env, capture_output=True,
                          text=True, timeout=60)


async def test_cli_creates_queues_agents_and_skills(mongo_url: str, db_name: str, directory: MongoDirectory) -> None:
    done = hub_cli(mongo_url, db_name, "queue", "create", "meters", "--name", "Meter readings",
                   "--skills", "meters", "--priority", "1", "--hours", "mon=08:00-20:00,sat=09:00-12:00")
    assert done.returncode == 0, done.stderr
    refused = hub_cli(mongo_url, db_name, "queue", "create", "late", "--name", "Late", "--hours", "mon=20:00-08:00")
    assert refused.returncode != 0 and "business hours" in refused.stderr
    done = hub_cli(mongo_url, db_name, "agent", "create", "dora", "--name", "Dora Zhang", "--skills",
                   "billing", "--capacity", "webchat=4,voice=0", "--password-stdin", stdin="long-enough-pw\n")
    assert done.returncode == 0, done.stderr
    done = hub_cli(mongo_url, db_name, "agent", "skills", "dora", "--add", "meters", "--remove", "billing")
    assert done.returncode == 0 and "meters" in done.stdout

    queue = await directory.queue("meters")
    assert queue.name == "Meter readings" and queue.skills == {"meters"} and queue.priority == 1
    assert queue.hours == {"mon": "08:00-20:00", "sat": "09:00-12:00"}
    dora = await directory.agent_by_username("dora")
    assert dora is not None and dora.skills == {"meters"} and dora.capacity["webchat"] == 4
    assert dora.password_hash.startswith("$argon2id$") and "long-enough-pw" not in dora.password_hash

    duplicate = hub_cli(mongo_url, db_name, "agent", "create", "dora", "--name", "Again", "--password-stdin",
                        stdin="long-enough-pw\n")
    assert duplicate.returncode == 2 and "already exists" in duplicate.stderr
    weak = hub_cli(mongo_url, db_name, "agent", "create", "eve", "--name", "Eve", "--password-stdin",
                   stdin="nine-char\n")
    assert weak.returncode == 2 and "at least 10 characters" in weak.stderr
    bad = hub_cli(mongo_url, db_name, "agent", "create", "fay", "--name", "Fay", "--capacity", "fax=1",
                  "--password-stdin", stdin="long-enough-pw\n")
    assert bad.returncode == 2 and "capacity" in bad.stderr


async def test_demo_data_is_idempotent(directory: MongoDirectory) -> None:
    assert "alice" in await load_demo(directory)
    assert await load_demo(directory) == []
    assert {q.id for q in await directory.queues()} == {"general", "billing", "outages", "complaints"}
    assert len(await directory.wrap_up_codes()) >= 5 and len(await directory.canned()) >= 5


async def test_cli_report_reads_the_event_table(mongo_url: str, db_name: str) -> None:
    done = hub_cli(mongo_url, db_name, "report", "--hours", "2", "--json")
    assert done.returncode == 0, done.stderr
    assert '"with_bot": 0' in done.stdout and '"containment_rate": null' in done.stdout
    text = hub_cli(mongo_url, db_name, "report")
    assert text.returncode == 0 and "containment n/a" in text.stdout


GOOD_KEY = "9f86d081884c7d659a2feaa0c55ad015-cli-test-key"


async def test_demo_users_only_in_development_mode(mongo_url: str, redis_url: str, db_name: str,
                                                   directory: MongoDirectory) -> None:
    demo = hub_cli(mongo_url, db_name, "demo")
    assert demo.returncode == 2 and "development mode" in demo.stderr, demo
    serve = hub_cli(mongo_url, db_name, "serve", "--demo", HUB_REDIS_URL=redis_url, HUB_SECRET_KEY=GOOD_KEY)
    assert serve.returncode == 2 and "development mode" in serve.stderr, serve
    assert await directory.agent_by_username("admin") is None


async def test_serve_refuses_weak_secret_keys_outside_development(mongo_url: str, redis_url: str,
                                                                  db_name: str) -> None:
    only_redis = hub_cli("", db_name, "serve", HUB_REDIS_URL=redis_url)  # the public development key
    assert only_redis.returncode == 2 and "HUB_SECRET_KEY" in only_redis.stderr, only_redis
    for weak in (" " * 32, "x" * 48, "0123" * 10):
        refused = hub_cli(mongo_url, db_name, "serve", HUB_REDIS_URL=redis_url, HUB_SECRET_KEY=weak)
        assert refused.returncode == 2 and "HUB_SECRET_KEY" in refused.stderr, (weak, refused)


async def test_cli_password_disable_enable_and_revoke(mongo_url: str, db_name: str, db: Db,
                                                      directory: MongoDirectory) -> None:
    await load_demo(directory)
    alice = await directory.agent_by_username("alice")
    assert alice is not None
    sessions = MongoSessionStore(db)
    expires = datetime.now(UTC) + timedelta(hours=1)
    for token in ("t1", "t2"):
        await sessions.create(token, alice.id, "csrf", expires)

    short = hub_cli(mongo_url, db_name, "agent", "password", "alice", "--password-stdin", stdin="too-short\n")
    assert short.returncode == 2 and "at least 10 characters" in short.stderr
    changed = hub_cli(mongo_url, db_name, "agent", "password", "alice", "--password-stdin",
                      stdin="a-new-long-password\n")
    assert changed.returncode == 0, changed.stderr
    updated = await directory.agent(alice.id)
    assert await verify_password(updated.password_hash, "a-new-long-password")
    assert await sessions.get("t1", datetime.now(UTC)) is None, "a password change revokes the sessions"

    await sessions.create("t3", alice.id, "csrf", expires)
    disabled = hub_cli(mongo_url, db_name, "agent", "disable", "alice")
    assert disabled.returncode == 0, disabled.stderr
    assert (await directory.agent(alice.id)).disabled and await sessions.get("t3", datetime.now(UTC)) is None
    listed = hub_cli(mongo_url, db_name, "agent", "list")
    assert "disabled" in next(line for line in listed.stdout.splitlines() if line.startswith("alice"))
    assert hub_cli(mongo_url, db_name, "agent", "enable", "alice").returncode == 0
    assert not (await directory.agent(alice.id)).disabled

    await sessions.create("t4", alice.id, "csrf", expires)
    revoked = hub_cli(mongo_url, db_name, "agent", "revoke-sessions", "alice")
    assert revoked.returncode == 0 and "1 session" in revoked.stdout, revoked
    assert await sessions.get("t4", datetime.now(UTC)) is None
    unknown = hub_cli(mongo_url, db_name, "agent", "disable", "nobody")
    assert unknown.returncode == 2 and "no agent" in unknown.stderr
