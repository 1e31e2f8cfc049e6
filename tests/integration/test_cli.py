"""The administration CLI against a real MongoDB."""

from __future__ import annotations

import os
import subprocess
import sys

from hub.storage.directory import MongoDirectory


def hub_cli(mongo_url: str, db_name: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HUB_MONGO_URL": mongo_url, "HUB_MONGO_DB": db_name}
    return subprocess.run([sys.executable, "-m", "hub", *args], input=stdin, env=env, capture_output=True,
                          text=True, timeout=60)


async def test_cli_creates_queues_agents_and_skills(mongo_url: str, db_name: str, directory: MongoDirectory) -> None:
    done = hub_cli(mongo_url, db_name, "queue", "create", "meters", "--name", "Meter readings",
                   "--skills", "meters", "--priority", "1")
    assert done.returncode == 0, done.stderr
    done = hub_cli(mongo_url, db_name, "agent", "create", "dora", "--name", "Dora Zhang", "--skills",
                   "billing", "--capacity", "webchat=4,voice=0", "--password-stdin", stdin="long-enough-pw\n")
    assert done.returncode == 0, done.stderr
    done = hub_cli(mongo_url, db_name, "agent", "skills", "dora", "--add", "meters", "--remove", "billing")
    assert done.returncode == 0 and "meters" in done.stdout

    queue = await directory.queue("meters")
    assert queue.name == "Meter readings" and queue.skills == {"meters"} and queue.priority == 1
    dora = await directory.agent_by_username("dora")
    assert dora is not None and dora.skills == {"meters"} and dora.capacity["webchat"] == 4
    assert dora.password_hash.startswith("$argon2id$") and "long-enough-pw" not in dora.password_hash

    duplicate = hub_cli(mongo_url, db_name, "agent", "create", "dora", "--name", "Again", "--password-stdin",
                        stdin="long-enough-pw\n")
    assert duplicate.returncode == 2 and "already exists" in duplicate.stderr
    weak = hub_cli(mongo_url, db_name, "agent", "create", "eve", "--name", "Eve", "--password-stdin", stdin="short\n")
    assert weak.returncode == 2 and "at least 8" in weak.stderr
    bad = hub_cli(mongo_url, db_name, "agent", "create", "fay", "--name", "Fay", "--capacity", "fax=1",
                  "--password-stdin", stdin="long-enough-pw\n")
    assert bad.returncode == 2 and "capacity" in bad.stderr


async def test_cli_demo_is_idempotent(mongo_url: str, db_name: str, directory: MongoDirectory) -> None:
    first = hub_cli(mongo_url, db_name, "demo")
    assert first.returncode == 0 and "alice" in first.stdout
    second = hub_cli(mongo_url, db_name, "demo")
    assert second.returncode == 0 and "new agents: none" in second.stdout
    assert {q.id for q in await directory.queues()} == {"general", "billing", "outages", "complaints"}
    assert len(await directory.wrap_up_codes()) >= 5 and len(await directory.canned()) >= 5


async def test_cli_report_reads_the_event_table(mongo_url: str, db_name: str) -> None:
    done = hub_cli(mongo_url, db_name, "report", "--hours", "2", "--json")
    assert done.returncode == 0, done.stderr
    assert '"with_bot": 0' in done.stdout and '"containment_rate": null' in done.stdout
    text = hub_cli(mongo_url, db_name, "report")
    assert text.returncode == 0 and "containment n/a" in text.stdout
