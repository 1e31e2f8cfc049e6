"""Probe: conversation transitions on the MongoDB side alone (no Redis, no routing, no HTTP).

Why: in ``bench/assignment.py`` the per-offer time rises from ~8 ms to ~35 ms after about 5,000
offers on a 10,000-conversation database. This probe repeats only what the ACD does in MongoDB
per offer (``MongoConversationStore.get`` + ``transition`` queued->offered + ``get_doc``) in a
loop and prints the cost per 1,000, so the effect can be attributed to the database engine and
re-checked against a real mongod.

Run:  .venv/bin/python bench/transition_probe.py [--conversations 10000] [--mongo-url mongodb://127.0.0.1:PORT]
(default: an in-memory SecantusDB from ``hub.embedded``; only loopback URLs are accepted).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hub.domain.states import ConversationState  # noqa: E402
from hub.storage.conversations import MongoConversationStore  # noqa: E402
from hub.storage.database import connect, ensure_indexes  # noqa: E402


async def probe(url: str, n: int) -> list[float]:
    client = connect(url)
    db_name = f"probe_{uuid.uuid4().hex[:8]}"
    db = client[db_name]
    try:
        await ensure_indexes(db)
        now = datetime.now(UTC).replace(microsecond=0)
        queues = ["general", "billing", "outages", "complaints"]
        docs = [{"_id": f"c{i}", "contact_id": f"k{i}", "contact_name": "x", "channel": "webchat",
                 "state": "queued", "version": 1, "queue": queues[i % 4], "priority": 0, "skills": [queues[i % 4]],
                 "agent_id": None, "created_at": now, "updated_at": now, "queued_at": now, "language": "en",
                 "preview": "", "unread": 0} for i in range(n)]
        events = [{"_id": f"c{i}:{v}", "conversation_id": f"c{i}", "version": v, "type": t, "from_state": f,
                   "to_state": s, "at": now, "channel": "webchat", "queue": queues[i % 4], "agent_id": None,
                   "actor": "system", "detail": {}, "changes": {}}
                  for i in range(n) for v, t, f, s in ((0, "created", None, "new"), (1, "queued", "new", "queued"))]
        for i in range(0, n, 1000):
            await db["conversations"].insert_many(docs[i:i + 1000])
            await db["events"].insert_many(events[2 * i:2 * i + 2000])
        store = MongoConversationStore(db)
        per_1000: list[float] = []
        t = time.perf_counter()
        for i in range(n):
            conversation = await store.get(f"c{i}")
            await store.transition(conversation, ConversationState.OFFERED, event_type="offered",
                                   at=datetime.now(UTC), actor="routing", changes={"agent_id": f"a{i % 500}"})
            await store.get_doc(f"c{i}")
            if (i + 1) % 1000 == 0:
                per_1000.append(time.perf_counter() - t)  # seconds per 1000 = ms per transition
                print(f"  transitions {i + 1:>6}: {per_1000[-1]:.2f} ms each (last 1,000)", flush=True)
                t = time.perf_counter()
        return per_1000
    finally:
        await client.drop_database(db_name)
        await client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--mongo-url", default="", help="a loopback MongoDB URL (default: embedded SecantusDB)")
    args = parser.parse_args()
    if args.mongo_url:
        host = urlparse(args.mongo_url).hostname or ""
        if host not in ("127.0.0.1", "localhost", "::1"):
            parser.error("only loopback MongoDB URLs")
        asyncio.run(probe(args.mongo_url, args.conversations))
        return 0
    from hub.embedded import start_secantus, stop

    logs = ROOT / "bench" / "results" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    service = start_secantus(None, logs / "probe-secantus.log")
    try:
        print(f"SecantusDB (in memory), {args.conversations:,} queued conversations:")
        asyncio.run(probe(service.url, args.conversations))
    finally:
        stop(service)
    return 0


if __name__ == "__main__":
    sys.exit(main())
