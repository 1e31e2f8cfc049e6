"""Curated training data in MongoDB: the seed, a large CSV import, --replace, and the Rasa YAML export."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
import yaml

from bot.training import rasa_yaml
from hub.bootstrap import training_desk
from hub.config import Settings
from hub.errors import InvalidInput
from hub.ports import TrainingDesk
from hub.storage.database import connect

ROWS, INTENTS = 30_000, 300


@pytest.fixture
async def desk(mongo_url: str, db_name: str) -> AsyncIterator[TrainingDesk]:
    client = connect(mongo_url)
    async with await training_desk(Settings(mongo_db=db_name), client[db_name]) as running:
        yield running
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


async def test_a_30000_row_300_intent_csv_imports_quickly_and_exports_whole(desk: TrainingDesk) -> None:
    data = big_csv()
    started = time.perf_counter()
    report = await desk.import_csv(data, replace=True, by="test")
    seconds = time.perf_counter() - started
    print(f"import of {ROWS} rows / {INTENTS} intents: {seconds:.2f} s")
    assert (report.rows, report.imported, report.duplicates, report.intents) == (ROWS + 1, ROWS, 1, INTENTS)
    assert seconds < 30, f"import took {seconds:.1f} s"

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
    again = await desk.import_csv("text,intent\nquestion number 1 about topic 1,intent_002\nbrand new,intent_new\n",
                                  replace=False, by="test")
    assert again.imported == 2
    counts = {i.name: i.examples for i in await desk.intents()}
    assert counts["intent_001"] == ROWS // INTENTS - 1 and counts["intent_002"] == ROWS // INTENTS + 1
    assert counts["intent_new"] == 1 and sum(counts.values()) == ROWS + 1


async def test_a_bad_file_changes_nothing(desk: TrainingDesk) -> None:
    await desk.intents()  # seeded
    before = {i.name: i.examples for i in await desk.intents()}
    with pytest.raises(InvalidInput, match="line 3: empty intent"):
        await desk.import_csv("text,intent\nfine,greet\nbroken,\n", replace=True, by="test")
    assert {i.name: i.examples for i in await desk.intents()} == before
