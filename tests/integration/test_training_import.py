"""Curated training data in MongoDB: the seed, a large CSV import, --replace, and the Rasa YAML export."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pymongo import AsyncMongoClient, monitoring

from bot.training import rasa_yaml
from bot.training.labels import intent_name
from hub.bootstrap import training_desk
from hub.config import Settings
from hub.embedded import start_secantus, stop
from hub.errors import InvalidInput
from hub.ports import TrainingDesk

ROWS, INTENTS = 30_000, 300


class Commands(monitoring.CommandListener):
    """Counts the commands sent to MongoDB: bulk writes are a handful, not one per row."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.names.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
def commands() -> Commands:
    return Commands()


@pytest.fixture(scope="module")
def own_mongo_url(artifacts: Path) -> Iterator[str]:
    """A SecantusDB of its own: the session's server has grown slow by this point of the suite (it is a
    Python process whose every collection lives in one heap), and bulk timing is what this file shows."""
    external = os.environ.get("HUB_TEST_MONGO_URL")
    if external:
        yield external
        return
    service = start_secantus(None, artifacts / "secantus-training.log")
    try:
        yield service.url
    finally:
        stop(service)


@pytest.fixture
async def desk(own_mongo_url: str, db_name: str, commands: Commands) -> AsyncIterator[TrainingDesk]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(own_mongo_url, tz_aware=True,
                                                                event_listeners=[commands])
    async with await training_desk(Settings(mongo_db=db_name), client[db_name]) as running:
        yield running
    await client.drop_database(db_name)
    await client.close()


def big_csv() -> str:
    lines = ["text,intent"]
    for i in range(ROWS):
        lines.append(f"question number {i} about topic {i % INTENTS},intent_{i % INTENTS:03d}")
    lines.append("Question number 0 about topic 0,intent_000")  # a duplicate after normalising
    return "\n".join(lines) + "\n"


async def test_the_shipped_nlu_is_the_seed_of_an_empty_collection(desk: TrainingDesk) -> None:
    intents = {i.name: i for i in await desk.intents()}
    assert intents["check_bill"].examples > 50 and intents["check_bill"].has_response
    assert len(intents) == 15  # the shipped intents with examples
    files = await desk.export()
    exported = rasa_yaml.read_nlu_examples(files["data/nlu.yml"])
    assert ("hi", "greet") in exported and sum(n.examples for n in intents.values()) == len(exported)


async def test_a_30000_row_300_intent_csv_imports_quickly_and_exports_whole(desk: TrainingDesk,
                                                                             commands: Commands) -> None:
    data = big_csv()
    commands.names.clear()
    started = time.perf_counter()
    report = await desk.import_csv(data, replace=True, by="test")
    seconds = time.perf_counter() - started
    print(f"import of {ROWS} rows / {INTENTS} intents: {seconds:.2f} s, {len(commands.names)} commands")
    assert (report.rows, report.imported, report.duplicates, report.intents) == (ROWS + 1, ROWS, 1, INTENTS)
    # Batched writes: about 6 inserts of 5000, the deletes and one write of the intents. Time depends on
    # the machine's load (about 5 s on an idle 2-core machine with SecantusDB); the round trips do not.
    assert len(commands.names) < 20, commands.names
    assert seconds < 60, f"import took {seconds:.1f} s"

    intents = await desk.intents()
    assert len(intents) == INTENTS and {i.examples for i in intents} == {ROWS // INTENTS}
    assert not any(i.has_response for i in intents)  # nothing answers them: humans take them
    files = await desk.export()
    pairs = rasa_yaml.read_nlu_examples(files["data/nlu.yml"])
    assert len(pairs) == ROWS and ("question number 299 about topic 299", "intent_299") in pairs
    domain = yaml.safe_load(files["domain.yml"])
    assert {f"intent_{i:03d}" for i in range(INTENTS)} <= set(domain["intents"])
    assert "utter_check_bill" in domain["responses"]

    # Without --replace: new rows are added, a known text is relabelled, the rest stays.
    commands.names.clear()
    again = await desk.import_csv("text,intent\nquestion number 1 about topic 1,intent_002\nbrand new,intent_new\n",
                                  replace=False, by="test")
    assert again.imported == 2
    assert commands.names.count("insert") + commands.names.count("update") <= 3, commands.names
    counts = {i.name: i.examples for i in await desk.intents()}
    assert counts["intent_001"] == ROWS // INTENTS - 1 and counts["intent_002"] == ROWS // INTENTS + 1
    assert counts["intent_new"] == 1 and sum(counts.values()) == ROWS + 1


async def test_a_bad_file_changes_nothing(desk: TrainingDesk) -> None:
    await desk.intents()  # seeded
    before = {i.name: i.examples for i in await desk.intents()}
    with pytest.raises(InvalidInput, match="line 3: empty intent"):
        await desk.import_csv("text,intent\nfine,greet\nbroken,\n", replace=True, by="test")
    assert {i.name: i.examples for i in await desk.intents()} == before


def test_the_cli_imports_exports_and_refuses_what_it_cannot_do(own_mongo_url: str, db_name: str,
                                                               tmp_path: Path) -> None:
    def hub(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "HUB_MONGO_URL": own_mongo_url, "HUB_MONGO_DB": db_name}
        return subprocess.run([sys.executable, "-m", "hub", "bot", *args], env=env, capture_output=True, text=True,
                              timeout=120)

    data = tmp_path / "data.csv"
    data.write_text("text,intent\ndo you buy solar power,solar_feed_in\nsolar export rates,solar_feed_in\n",
                    encoding="utf-8")
    done = hub("import", str(data))
    assert done.returncode == 0, done.stderr
    assert "2 rows, 2 examples written, 0 skipped, 0 duplicates, 1 intents" in done.stdout
    done = hub("export", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    nlu = rasa_yaml.read_nlu_examples((tmp_path / "out" / "data" / "nlu.yml").read_text(encoding="utf-8"))
    assert ("solar export rates", "solar_feed_in") in nlu and ("hi", "greet") in nlu  # added to the seed
    assert "solar_feed_in" in yaml.safe_load((tmp_path / "out" / "domain.yml").read_text(encoding="utf-8"))["intents"]

    # Real datasets: labels with spaces, punctuation and Chinese; a text labelled two ways; a bad row.
    data.write_text("text,intent\nmy card payment was reverted,reverted_card_payment?\n"
                    "the card payment came back,reverted_card_payment?\n电费怎么交,缴费 问题\n"
                    "hello there,greet\nHello there,goodbye\nsee you,goodbye\nno label,\n", encoding="utf-8")
    refused = hub("import", str(data), "--replace")
    assert refused.returncode == 2 and "line 8: empty intent" in refused.stderr and "--skip-bad" in refused.stderr
    done = hub("import", str(data), "--replace", "--skip-bad")
    assert done.returncode == 0, done.stderr
    assert "7 rows, 4 examples written, 3 skipped, 0 duplicates, 3 intents" in done.stdout
    assert f"'reverted_card_payment?' -> {intent_name('reverted_card_payment?')}" in done.stdout
    assert f"'缴费 问题' -> {intent_name('缴费 问题')}" in done.stdout
    assert "lines 5, 6: 'hello there' is labelled 'greet' and 'goodbye'" in done.stdout
    assert "line 8: empty intent" in done.stdout
    done = hub("export", str(tmp_path / "mapped"))
    nlu = rasa_yaml.read_nlu_examples((tmp_path / "mapped" / "data" / "nlu.yml").read_text(encoding="utf-8"))
    assert sorted(nlu) == sorted([("my card payment was reverted", intent_name("reverted_card_payment?")),
                                  ("the card payment came back", intent_name("reverted_card_payment?")),
                                  ("电费怎么交", intent_name("缴费 问题")), ("see you", "goodbye")])
    nothing = hub("activate")
    assert nothing.returncode == 2 and "no trained model" in nothing.stderr
    assert hub("models").stdout == ""
