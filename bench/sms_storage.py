"""The database side of an SMS round trip alone: SecantusDB's CPU and commands per round trip, through
the hub's own storage classes, without Kannel, the agents or the hub's other work (ADR 0068).

Per round trip, paced at ``--rate``/s over 60 conversations: the customer's SMS stored
(``MongoMessageStore.add``), the reply with its outbox entry (``add_outbound``), Kannel's answer
(``queued`` under the message's own id) and its two delivery reports (SMSC ack, delivered), either
at once (they meet in a batch) or ``--apart-ms`` apart. The storage API is the same in trees before
and after ADR 0068, so the same script measures either: ``PYTHONPATH=<tree>``. Far less noisy than
``sms_roundtrip.py`` on a shared machine, but it leaves out what the hub does around the writes.

    PYTHONPATH=$PWD .venv/bin/python bench/sms_storage.py [--trips 1500] [--rate 100] [--apart-ms 50]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # after PYTHONPATH: another tree's hub is measured with this script

from counters import process_cpu_s  # noqa: E402  (bench/ is the script's folder)

from hub.domain.ids import Author, ConversationId, DeliveryStatus, ExternalId, MessageId  # noqa: E402
from hub.domain.model import Message  # noqa: E402
from hub.embedded import start_secantus, stop  # noqa: E402
from hub.storage.database import Db, connect, ensure_indexes  # noqa: E402
from hub.storage.messages import MongoMessageStore  # noqa: E402
from hub.storage.outbox import MongoOutboxStore  # noqa: E402
from hub.storage.outbox_states import OutboxStates  # noqa: E402

WARM_UP = 200
PHONE = "+8613800138000"


def message(n: str, author: Author, conversation: str, text: str, status: DeliveryStatus) -> Message:
    return Message(id=MessageId(n), conversation_id=ConversationId(conversation), channel="sms", author=author,
                   author_id=None if author is Author.CUSTOMER else "a_bench", author_name="", text=text,
                   sent_at=datetime.now(UTC), status=status, address=PHONE,
                   external_id=ExternalId(f"k{n}") if author is Author.CUSTOMER else None)


async def trip(messages: MongoMessageStore, states: OutboxStates, n: int, apart_s: float) -> None:
    conversation = f"c{n % 60}"
    await messages.add(message(f"mo{n}", Author.CUSTOMER, conversation, "我家停电了", DeliveryStatus.SENT))
    reply = message(f"re{n}", Author.AGENT, conversation, "我们马上派人处理。", DeliveryStatus.QUEUED)
    now = datetime.now(UTC)
    await messages.add_outbound(reply, {"state": "sending", "due_at": now, "attempts": 1,
                                        "lease_until": now + timedelta(seconds=60),
                                        "thread": {"reply_to": f"kmo{n}", "to": "95598"}})
    await states.sent(reply.id, [reply.id], DeliveryStatus.QUEUED, DeliveryStatus.QUEUED)
    if not apart_s:
        await asyncio.gather(states.advance(reply.id, DeliveryStatus.SENT),
                             states.advance(reply.id, DeliveryStatus.DELIVERED))
        return
    await states.advance(reply.id, DeliveryStatus.SENT)
    await asyncio.sleep(apart_s)
    await states.advance(reply.id, DeliveryStatus.DELIVERED)


async def level(url: str, pid: int, db_name: str, trips: int, rate: float, apart_s: float) -> dict[str, Any]:
    client = connect(url)
    db: Db = client[db_name]
    await ensure_indexes(db)
    async with MongoMessageStore(db, gather_s=0.002) as messages, MongoOutboxStore(db).states as states:
        for n in range(WARM_UP):
            await trip(messages, states, 10**6 + n, 0)
        before, cpu0, t0 = await _writes(db), process_cpu_s(pid), time.monotonic()
        tasks = []
        for n in range(trips):
            tasks.append(asyncio.create_task(trip(messages, states, n, apart_s), name=f"bench:trip:{n}"))
            await asyncio.sleep(max(0.0, t0 + (n + 1) / rate - time.monotonic()))
        await asyncio.gather(*tasks)
        cpu_ms = (process_cpu_s(pid) - cpu0) * 1000 / trips
    after = await _writes(db)
    await client.close()
    return {"secantus_ms": round(cpu_ms, 3),
            "commands": {k: round((after[k] - before.get(k, 0)) / trips, 2)
                         for k in after if after[k] != before.get(k)}}


async def _writes(db: Db) -> dict[str, int]:
    """Write commands per collection so far (the server's ``top``)."""
    totals = (await db.client.admin.command("top"))["totals"]
    prefix = f"{db.name}."
    return {f"{ns[len(prefix):]}.{kind}": int(totals[ns][kind]["count"])
            for ns in totals if ns.startswith(prefix) for kind in ("insert", "update", "remove")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trips", type=int, default=1500)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--apart-ms", type=float, default=50)
    args = parser.parse_args()
    service = start_secantus(None, Path(tempfile.mkdtemp()) / "secantus.log")
    try:
        apart = args.apart_ms / 1000
        for name, apart_s in (("reports together", 0.0), (f"reports {args.apart_ms:.0f} ms apart", apart)):
            result = asyncio.run(level(service.url, service.process.pid, f"bench_{int(apart_s * 1000)}",
                                       args.trips, args.rate, apart_s))
            print(f"{name}: SecantusDB {result['secantus_ms']} ms per round trip; write commands per round trip "
                  f"{result['commands']}")
    finally:
        stop(service)


if __name__ == "__main__":
    main()
