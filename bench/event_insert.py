"""What inserting the event table costs on SecantusDB, and how much of it is index maintenance (issue 14).

The KPI bench (``bench/kpi_projection.py``) bulk inserts its events with ``insert_many`` of 5,000
into a collection carrying the hub's indexes (``hub/storage/database.py:INDEXES["events"]``: ``_id``
plus five). Here the same generated events go, alternating round by round in one run (so a busy
machine slows both alike), into a fresh ``events`` collection with (a) the hub's indexes, (b) only
``_id``, (c) ``_id`` plus the unique ``seq``. Reported per variant: events per second over all
rounds, and the first and last chunk's rate (whether the cost grows with the table).

Run:  .venv/bin/python bench/event_insert.py [--events 50000] [--rounds 2] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.kpi_events import chunks, generate  # noqa: E402
from bench.kpi_projection import EVENTS_PER_CONVERSATION, FIRST_DAY, ZONE  # noqa: E402
from bench.runinfo import calibrate, git_state, machine  # noqa: E402
from hub.embedded import start_secantus, stop  # noqa: E402
from hub.storage.database import INDEXES, Db, connect  # noqa: E402

CHUNK = 5000
SEQ_ONLY = [model for model in INDEXES["events"] if model.document["name"] == "seq"]
VARIANTS = {"hub indexes (_id + 5)": INDEXES["events"], "_id only": [], "_id + seq": SEQ_ONLY}


async def insert(db: Db, variant: str, events: list[dict[str, Any]]) -> list[float]:
    """Seconds per chunk into a fresh collection with the variant's indexes."""
    collection = db[f"events_{list(VARIANTS).index(variant)}"]
    await collection.drop()
    if VARIANTS[variant]:
        await collection.create_indexes(VARIANTS[variant])
    seconds = []
    for batch in chunks(events, CHUNK):
        started = time.perf_counter()
        await collection.insert_many([dict(doc) for doc in batch], ordered=False)
        seconds.append(time.perf_counter() - started)
    await collection.drop()
    return seconds


async def run(url: str, events_wanted: int, rounds: int) -> dict[str, Any]:
    events, _, plan = generate(max(1, round(events_wanted / EVENTS_PER_CONVERSATION)), FIRST_DAY, 30, ZONE)
    client = connect(url)
    db = client[f"insertbench_{int(time.time())}"]
    times: dict[str, list[list[float]]] = {variant: [] for variant in VARIANTS}
    try:
        for round_ in range(rounds):
            for variant in VARIANTS:
                times[variant].append(await insert(db, variant, events))
                total = sum(times[variant][-1])
                print(f"round {round_ + 1} {variant}: {len(events) / total:.0f} events/s", flush=True)
    finally:
        await client.drop_database(db.name)
        await client.close()
    out = []
    for variant, runs in times.items():
        total = sum(sum(r) for r in runs)
        first = sum(r[0] for r in runs) / len(runs)
        last = sum(r[-1] for r in runs) / len(runs)
        last_size = len(events) - CHUNK * (len(runs[0]) - 1)
        out.append({"variant": variant, "events_per_s": round(len(events) * len(runs) / total),
                    "first_chunk_events_per_s": round(min(CHUNK, len(events)) / first),
                    "last_chunk_events_per_s": round(last_size / last)})
    return {"events": plan.events, "rounds": rounds, "chunk": CHUNK, "variants": out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "event_insert.json")
    args = parser.parse_args()
    info: dict[str, Any] = {"git": git_state(), "machine": machine(), "calibration_s": calibrate()}
    with tempfile.TemporaryDirectory() as tmp:
        service = start_secantus(None, Path(tmp) / "secantus.log")
        try:
            result = asyncio.run(run(service.url, args.events, args.rounds))
        finally:
            stop(service)
    for row in result["variants"]:
        print(f"{row['variant']}: {row['events_per_s']} events/s (first chunk {row['first_chunk_events_per_s']}, "
              f"last {row['last_chunk_events_per_s']})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({**info, **result}, indent=2, default=str))
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
