"""What one web-chat round trip writes, in documents as well as commands, paced so that no batch
fills: widget -> hub -> agent's console -> reply -> widget, one round trip at a time.

SecantusDB's opcounters count commands (a bulk write of n updates is one update), but it pays per
document, most for an updated conversation (~1.65 ms of its CPU each with the hub's indexes; ADR
0063). This counts both: the inbox lines the summary writer wrote (a counting wrapper on its
collection's ``bulk_write``, set on the instance in this process; conversation documents before
ADR 0067), the server's opcounters per round trip, and its update commands on ``conversations``
(``top``, by collection). A whole hub runs in this process (``hub.bootstrap.running_hub``) on its own SecantusDB
and redis-server; the clients are the tests' widget and console clients. Counts do not depend on
the machine's load; time does not matter here.

    .venv/bin/python bench/webchat_documents.py [--widgets 3] [--rounds 15] [--gap 0.6]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from counters import mongo_top, top_difference  # noqa: E402  (bench/ is the script's folder)

from hub.admin import load_demo  # noqa: E402
from hub.bootstrap import running_hub  # noqa: E402
from hub.embedded import start_redis, start_secantus, stop  # noqa: E402
from tests.clients import AgentClient, WidgetClient  # noqa: E402
from tests.conftest import make_settings  # noqa: E402

KINDS = ("insert", "query", "update", "delete", "getmore")


async def measure(widgets: int, rounds: int, gap_s: float, logs: Path) -> dict[str, Any]:
    mongo = start_secantus(None, logs / "secantus.log")
    redis = start_redis(None, logs / "redis.log")
    try:
        async with running_hub(make_settings(f"docs_{uuid.uuid4().hex[:8]}"), mongo_url=mongo.url,
                               redis_url=redis.url) as hub:
            await load_demo(hub.context.directory)
            summaries: Any = hub.context.messages.summaries
            lines = summaries._lines
            written = {"documents": 0, "commands": 0}
            bulk_write = lines.bulk_write

            async def counting(requests: list[Any], *args: Any, **kwargs: Any) -> Any:
                written["documents"] += len(requests)
                written["commands"] += 1
                return await bulk_write(requests, *args, **kwargs)

            lines.bulk_write = counting
            db = lines.database

            async def opcounters() -> dict[str, int]:
                counters = (await db.client.admin.command("serverStatus"))["opcounters"]
                return {k: int(counters[k]) for k in KINDS}

            agent = await AgentClient.online(hub.base_url, "alice")
            async with aiohttp.ClientSession() as http:
                clients = [WidgetClient(hub.base_url, http) for _ in range(widgets)]
                held = []
                for widget in clients:
                    await widget.connect()
                    await widget.say("hello")
                    held.append(await agent.take_offer())
                await asyncio.sleep(2.0)  # the set-up's transitions, receipts and consumers settle
                before, ops0, top0 = dict(written), await opcounters(), await mongo_top(mongo.url)
                for index, (widget, conversation_id) in enumerate(zip(clients, held, strict=True)):
                    for n in range(rounds):
                        text = f"w{index} r{n}"
                        await widget.send(text)
                        while (await agent.next("message", timeout=20)).get("message", {}).get("text") != text:
                            pass
                        await agent.reply(conversation_id, f"re {text}")
                        while (await widget.next("message", timeout=20))["message"]["text"] != f"re {text}":
                            pass
                        await asyncio.sleep(gap_s)  # the next customer message comes later
                await asyncio.sleep(1.0)  # the last inbox lines are written
                ops1, top1 = await opcounters(), await mongo_top(mongo.url)
                for widget in clients:
                    await widget.close()
            await agent.close()
    finally:
        stop(mongo)
        stop(redis)
    n = widgets * rounds
    conversation_updates = top_difference(top0, top1).get("conversations", {}).get("update", (0, 0))[0]
    return {"round_trips": n,
            "inbox_lines_written_per_round_trip": round((written["documents"] - before["documents"]) / n, 3),
            "conversation_update_commands_per_round_trip": round(conversation_updates / n, 3),
            "summary_bulk_writes_per_round_trip": round((written["commands"] - before["commands"]) / n, 3),
            "opcounters_per_round_trip": {k: round((ops1[k] - ops0[k]) / n, 3) for k in KINDS}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--widgets", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=15, help="round trips per widget, one at a time")
    parser.add_argument("--gap", type=float, default=0.6, help="seconds between a reply and the next message")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as logs:
        result = asyncio.run(measure(args.widgets, args.rounds, args.gap, Path(logs)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
