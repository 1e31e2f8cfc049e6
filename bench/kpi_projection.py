"""KPI bench: the interval projection's throughput and the history's query time over a large event
table, beside a plain MongoDB aggregation over the raw events in the same run (issue 14).

1. Generate realistic event documents (``bench/kpi_events.py``: web chat, SMS, e-mail, Telegram,
   calls; answered, declined, transferred, abandoned, bot) over ``--days`` days and bulk insert them
   (numbered, as ``hub/storage/eventlog.py`` numbers them) with their conversations into a fresh
   in-memory SecantusDB (``hub.embedded``) or ``--mongo-url`` (loopback only), then build the hub's
   indexes (``ensure_indexes``; building them after the load is about twice as fast on SecantusDB).
2. Projection: the durable consumer's own work (``hub.projections.KpiIntervals`` over
   ``MongoEventStream.after`` batches of ``--batch`` events, checkpoint saved after each batch, as
   ``hub.consumers`` runs it, without the lease and hole handling): events applied per second.
   The stored projection is checked against the generated plan (offered, answered, abandoned).
3. History (``hub.kpi_reports.KpiReports`` over ``MongoKpiRecords``, as ``/api/kpi/history``
   runs it): every day of the range, by day and by agent; one day by quarter hour; first-contact
   resolution is part of it (and is left out past 100,000 resolutions, as documented).
4. Plain aggregation over the raw events: counts by local day and event type, and handle time per
   conversation then per day (``$group`` twice), the figures a report without a projection reads.

Run:  .venv/bin/python bench/kpi_projection.py [--quick] [--events 1000000] [--days 30] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.kpi_events import Plan, chunks, generate  # noqa: E402
from bench.runinfo import calibrate, git_state, machine  # noqa: E402
from hub.embedded import start_secantus, stop  # noqa: E402
from hub.kpi_figures import ServiceLevels  # noqa: E402
from hub.kpi_reports import KpiReports  # noqa: E402
from hub.projections import KpiIntervals  # noqa: E402
from hub.storage.database import INDEXES, Db, connect, ensure_indexes  # noqa: E402
from hub.storage.eventlog import COUNTER, MongoCheckpoints, MongoEventStream  # noqa: E402
from hub.storage.kpi_history import MongoKpiRecords  # noqa: E402
from hub.storage.kpi_intervals import MongoKpiIntervals  # noqa: E402

ZONE = ZoneInfo("Asia/Shanghai")
FIRST_DAY = date(2026, 3, 2)
EVENTS_PER_CONVERSATION = 5.6  # what kpi_events.story averages


PROGRESS_EVERY = 100_000  # events: a line with the rate so far (a run stopped early still says how far it got)


async def load(db: Db, events: list[dict[str, Any]], documents: list[dict[str, Any]]) -> float:
    """Bulk insert; returns the seconds taken."""
    started = time.perf_counter()
    for done, batch in enumerate(chunks(events, 5000), start=1):
        chunk_started = time.perf_counter()
        await db["events"].insert_many(batch, ordered=False)
        if done * 5000 % PROGRESS_EVERY == 0:
            now = time.perf_counter()
            print(f"  inserted {done * 5000} events, {done * 5000 / (now - started):.0f} events/s so far,"
                  f" this chunk {len(batch) / (now - chunk_started):.0f} events/s", flush=True)
    for batch in chunks(documents, 5000):
        await db["conversations"].insert_many(batch, ordered=False)
    await db["counters"].update_one({"_id": COUNTER}, {"$set": {"seq": len(events), "backfilled": True}},
                                    upsert=True)
    return time.perf_counter() - started


async def project(db: Db, batch: int) -> tuple[float, int]:
    """The consumer's loop until the stream is drained: seconds, batches."""
    stream, checkpoints = MongoEventStream(db), MongoCheckpoints(db)
    consumer = KpiIntervals(stream, MongoKpiIntervals(db))
    seq, batches = 0, 0
    started = time.perf_counter()
    while True:
        events = await stream.after(seq, batch)
        if not events:
            break
        await consumer.handle(events)
        seq = events[-1].seq
        await checkpoints.save(consumer.name, seq, holder="bench", at=datetime.now(UTC))
        batches += 1
        if seq // PROGRESS_EVERY != (seq - len(events)) // PROGRESS_EVERY:
            print(f"  projected {seq} events, {seq / (time.perf_counter() - started):.0f} events/s so far", flush=True)
    return time.perf_counter() - started, batches


async def check(db: Db, plan: Plan) -> dict[str, int]:
    """The stored projection's queue totals against the generated plan (raises on a mismatch)."""
    totals = {"offered": 0, "answered": 0, "abandoned": 0, "resolved_by_bot": 0}
    async for doc in db["kpi_intervals"].find({"agent": ""}, {"c": 1}):
        for name in totals:
            totals[name] += int(doc.get("c", {}).get(name, 0))
    expected = {"offered": plan.offered, "answered": plan.answered, "abandoned": plan.abandoned,
                "resolved_by_bot": plan.resolved_by_bot}
    if totals != expected:
        raise AssertionError(f"projection {totals} != generated {expected}")
    return totals


async def timed(label: str, runs: int, call: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
    """Best and median of ``runs`` calls (the first warms caches), and the result's size."""
    seconds: list[float] = []
    size = 0
    for _ in range(runs):
        started = time.perf_counter()
        result = await call()
        seconds.append(time.perf_counter() - started)
        size = len(result) if hasattr(result, "__len__") else 0
    seconds.sort()
    row = {"query": label, "best_s": round(seconds[0], 3), "median_s": round(seconds[len(seconds) // 2], 3),
           "rows": size}
    print(f"{label}: best {row['best_s']} s, median {row['median_s']} s ({size} rows)", flush=True)
    return row


def raw_counts_pipeline(start: datetime, end: datetime) -> list[dict[str, Any]]:
    day = {"$dateToString": {"format": "%Y-%m-%d", "date": "$at", "timezone": ZONE.key}}
    return [{"$match": {"at": {"$gte": start, "$lt": end}}},
            {"$group": {"_id": {"day": day, "type": "$type"}, "n": {"$sum": 1}}},
            {"$sort": {"_id.day": 1, "_id.type": 1}}]


def raw_handle_pipeline(start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Handle time = first assignment to resolution per conversation, then per local day."""
    return [{"$match": {"at": {"$gte": start, "$lt": end}, "to_state": {"$in": ["assigned", "resolved"]}}},
            {"$group": {"_id": "$conversation_id",
                        "assigned": {"$min": {"$cond": [{"$eq": ["$to_state", "assigned"]}, "$at", None]}},
                        "resolved": {"$max": {"$cond": [{"$eq": ["$to_state", "resolved"]}, "$at", None]}}}},
            {"$match": {"assigned": {"$ne": None}, "resolved": {"$ne": None}}},
            {"$group": {"_id": {"$dateToString": {"format": "%Y-%m-%d", "date": "$resolved", "timezone": ZONE.key}},
                        "handled": {"$sum": 1},
                        "handle_ms": {"$sum": {"$subtract": ["$resolved", "$assigned"]}}}},
            {"$sort": {"_id": 1}}]


async def build_indexes_one_by_one(db: Db) -> None:
    """The hub's indexes (``INDEXES``), one ``createIndexes`` per index: SecantusDB answered
    "internal server error" to the events' five indexes built in one command over a million events."""
    for collection, models in INDEXES.items():
        for model in models:
            started = time.perf_counter()
            await db[collection].create_indexes([model])
            print(f"  index {collection}.{model.document['name']} in {time.perf_counter() - started:.1f} s", flush=True)


async def aggregate(db: Db, pipeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row async for row in await db["events"].aggregate(pipeline)]


async def run(url: str, events_wanted: int, days: int, batch: int, runs: int, *, drop: bool,
              indexes_first: bool) -> dict[str, Any]:
    conversations = max(1, round(events_wanted / EVENTS_PER_CONVERSATION))
    started = time.perf_counter()
    events, documents, plan = generate(conversations, FIRST_DAY, days, ZONE)
    generate_s = time.perf_counter() - started
    print(f"generated {plan.events} events of {plan.conversations} conversations in {generate_s:.1f} s", flush=True)
    client = connect(url)
    db = client[f"kpibench_{int(time.time())}"]
    try:
        # Bulk load first, then build the hub's indexes (ensure_indexes): SecantusDB maintains every
        # index document by document, ~7x the cost of the insert itself (bench/event_insert.py).
        # --indexes-first: SecantusDB's index build over 1,040,536 events failed ("internal server error").
        if indexes_first:
            await ensure_indexes(db)
        load_s = await load(db, events, documents)
        del events, documents
        print(f"inserted in {load_s:.1f} s ({plan.events / load_s:.0f} events/s)", flush=True)
        started = time.perf_counter()
        await build_indexes_one_by_one(db)  # nothing to build after --indexes-first
        index_s = time.perf_counter() - started
        print(f"indexes built in {index_s:.1f} s (load with indexes: {plan.events / (load_s + index_s):.0f} events/s)",
              flush=True)
        project_s, batches = await project(db, batch)
        print(f"projected in {project_s:.1f} s ({plan.events / project_s:.0f} events/s)", flush=True)
        totals = await check(db, plan)
        buckets = await db["kpi_intervals"].count_documents({})
        records = MongoKpiRecords(db)
        reports = KpiReports(records, zone=ZONE, levels=ServiceLevels())
        last = FIRST_DAY + timedelta(days=days - 1)
        now = datetime.combine(last + timedelta(days=30), datetime.min.time(), tzinfo=ZONE)
        start, end = reports.bounds(FIRST_DAY, last)
        one_week = min(last, FIRST_DAY + timedelta(days=6))
        queries = [
            await timed(f"history {days} days by day", runs,
                        lambda: reports.history(FIRST_DAY, last, "day", "none", now)),
            await timed(f"history {days} days by day and agent", runs,
                        lambda: reports.history(FIRST_DAY, last, "day", "agent", now)),
            await timed("history 1 day by quarter hour", runs,
                        lambda: reports.history(FIRST_DAY, FIRST_DAY, "interval", "none", now)),
            await timed(f"  of which: reading the projection's buckets, {days} days", runs,
                        lambda: records.intervals(start, end)),
            await timed(f"  of which: first-contact resolution, {days} days", runs,
                        lambda: reports.fcr(start, end, now)),
            await timed("history 7 days by day", runs,
                        lambda: reports.history(FIRST_DAY, one_week, "day", "none", now)),
            await timed(f"raw events: count by local day and type, {days} days", runs,
                        lambda: aggregate(db, raw_counts_pipeline(start, end))),
            await timed(f"raw events: handle time per conversation then day, {days} days", runs,
                        lambda: aggregate(db, raw_handle_pipeline(start, end))),
        ]
        return {"plan": asdict(plan), "days": days, "batch": batch, "generate_s": round(generate_s, 1),
                "insert_s": round(load_s, 1), "insert_events_per_s": round(plan.events / load_s),
                "index_build_s": round(index_s, 1), "load_events_per_s": round(plan.events / (load_s + index_s)),
                "projection_s": round(project_s, 1), "projection_events_per_s": round(plan.events / project_s),
                "batches": batches, "buckets": buckets, "checked": totals, "queries": queries}
    finally:
        if drop:  # a loopback MongoDB's; a fresh SecantusDB is stopped instead (dropping 400,000 events took minutes)
            await client.drop_database(db.name)
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="50,000 events over 7 days, one run per query")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--batch", type=int, default=200, help="events per consumer batch (HUB_CONSUMERS__BATCH)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--indexes-first", action="store_true",
                        help="create the indexes before the load (slower; SecantusDB failed to build them after 1M)")
    parser.add_argument("--cache-size", default="8G",
                        help="the fresh SecantusDB's WiredTiger cache (its default, 1G, failed the index build"
                             " over a million events: one createIndexes is one transaction)")
    parser.add_argument("--mongo-url", help="a loopback MongoDB instead of a fresh in-memory SecantusDB")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "kpi_projection.json")
    args = parser.parse_args()
    if args.quick:
        args.events, args.days, args.runs = 50_000, 7, 1
    if args.mongo_url and urlparse(args.mongo_url).hostname not in ("127.0.0.1", "localhost", "::1"):
        parser.error("only a loopback MongoDB")
    info: dict[str, Any] = {"git": git_state(), "machine": machine(), "calibration_s": calibrate()}
    with tempfile.TemporaryDirectory() as tmp:
        service = (None if args.mongo_url
                   else start_secantus(None, Path(tmp) / "secantus.log", cache_size=args.cache_size))
        try:
            url = args.mongo_url or (service.url if service else "")
            result = asyncio.run(run(url, args.events, args.days, args.batch, args.runs, drop=bool(args.mongo_url),
                                     indexes_first=args.indexes_first))
        except BaseException:
            server_log = Path(tmp) / "secantus.log"  # its traceback says why it answered "internal server error"
            if server_log.exists():
                print("SecantusDB's log, last lines:", *server_log.read_text(errors="replace").splitlines()[-40:],
                      sep="\n", file=sys.stderr)
            raise
        finally:
            if service is not None:
                stop(service)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({**info, **result, "engine": "mongo-url" if args.mongo_url else "secantusdb"},
                                   indent=2, default=str))
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
