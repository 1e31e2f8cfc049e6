"""An outage notice to 5,000 contacts through a real Kannel and its fake SMSC, with the hub
SIGKILLed half-way and started again: every contact gets the SMS exactly once, at the configured
rate, and every delivery report Kannel sends is recorded on its entry (ADR 0036)."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from hub.admin import load_demo
from hub.embedded import free_port
from hub.storage.database import Db
from hub.storage.directory import MongoDirectory
from tests.clients import AgentClient
from tests.conftest import eventually
from tests.fake_smsc import FakeSMSC
from tests.kannel_rig import running_kannel
from tests.processes import HubProcess

CONTACTS = 5_000
RATE = 100  # SMS per second: 5,000 in 50 s (a ceiling; a loaded 2-core machine may stay below it)
AREA = "North District"


def phone(i: int) -> str:
    return f"+86139{i:08d}"


async def seed_contacts(db: Db) -> None:
    now = datetime.now(UTC)
    docs = [{"_id": f"k_n{i:05d}", "display_name": f"Customer {i}", "identities": [f"sms:{phone(i)}"],
             "created_at": now, "open_conversation_id": None, "area": AREA, "area_key": "north district"}
            for i in range(CONTACTS)]
    # Elsewhere, and one in the area without a phone: neither gets the notice.
    docs.append({"_id": "k_south", "display_name": "South", "identities": ["sms:+8613700000001"], "created_at": now,
                 "open_conversation_id": None, "area": "South", "area_key": "south"})
    docs.append({"_id": "k_mail", "display_name": "Mail", "identities": ["email:mail@example.org"], "created_at": now,
                 "open_conversation_id": None, "area": AREA, "area_key": "north district"})
    for start in range(0, len(docs), 1000):
        await db["contacts"].insert_many(docs[start:start + 1000])


async def collect(smsc: FakeSMSC, arrivals: list[tuple[float, str]]) -> None:
    loop = asyncio.get_running_loop()
    while True:
        mt = await smsc.mt.get()
        if mt.part is None or mt.part[2] == 1:  # a message, not each of its parts
            arrivals.append((loop.time(), mt.receiver))


async def dlrs_from_the_smsc(admin_port: int, password: str) -> int:
    """Delivery reports bearerbox received from the (fake) SMSC, each passed on to smsbox for the
    hub's dlr-url (status.txt: ``DLR: received N, sent M``; ``sent`` counts reports to an SMSC)."""
    async with aiohttp.ClientSession() as http, http.get(
            f"http://127.0.0.1:{admin_port}/status.txt", params={"password": password}) as response:
        found = re.search(r"DLR: received (\d+), sent \d+", await response.text())
    assert found is not None
    return int(found.group(1))


def busiest_second(times: list[float]) -> int:
    """The most SMS that arrived within any one second."""
    times = sorted(times)
    best, low = 0, 0
    for high, at in enumerate(times):
        while at - times[low] > 1.0:
            low += 1
        best = max(best, high - low + 1)
    return best


async def test_notice_to_5000_contacts_survives_a_hub_kill(mongo_url: str, redis_url: str, db_name: str, db: Db,
                                                           tmp_path: Path) -> None:
    await seed_contacts(db)
    await load_demo(MongoDirectory(db))
    hub_port = free_port()
    secret = secrets.token_urlsafe(24)
    mo_url = f"http://127.0.0.1:{hub_port}/channels/sms/mo?secret={secret}"
    # smsbox keeps retrying the reports of the batch in flight for a minute (the default 10 s is less
    # than a loaded machine takes to start a hub): the hub learns Kannel had them and sends none twice.
    with running_kannel(tmp_path / "kannel", mo_url, http_retries=30) as rig:
        settings = {"sms__kannel_url": rig.sendsms_url, "sms__username": rig.user, "sms__password": rig.password,
                    "sms__secret": secret, "sms__sender": "10086", "outages__sms_per_s": str(RATE),
                    "outages__reconcile_s": "45", "outages__poll_s": "0.2", "lease_ttl_s": "2"}

        def hub_process(n: int) -> HubProcess:
            return HubProcess(mongo_url=mongo_url, redis_url=redis_url, db_name=db_name, port=hub_port,
                              log_path=tmp_path / f"hub{n}.log", **settings)

        first = await hub_process(1).start()
        arrivals: list[tuple[float, str]] = []
        async with FakeSMSC(rig.smsc_port) as smsc:
            collector = asyncio.create_task(collect(smsc, arrivals))
            sara = await AgentClient(first.base_url).login("sara")
            try:
                start = datetime.now(UTC) - timedelta(minutes=5)
                outage = (await sara.call("POST", "/api/outages", {
                    "area": "north  district", "cause": "cable fault", "start": start.isoformat(),
                    "expected_restoration": (start + timedelta(hours=3)).isoformat()}, expect=201))["outage"]
                notice = (await sara.call("POST", f"/api/outages/{outage['id']}/notices", {"kind": "outage"},
                                          expect=202))["notice"]
                assert notice["state"] == "preparing"
                await sara.call("POST", f"/api/outages/{outage['id']}/notices", {"kind": "outage"}, expect=409)
                # Kill the hub mid-send, with no shutdown code running.
                await eventually(lambda: len(arrivals) >= 1_500, timeout=120)
                first.kill()
                killed_at = len(arrivals)
                left = await db["outage_notices"].find_one({"_id": notice["id"]})
                assert left is not None and left["state"] == "sending"
                assert killed_at < CONTACTS
                second = await hub_process(2).start()
                try:
                    await eventually(lambda: len(arrivals) >= CONTACTS, timeout=180)

                    async def all_reported() -> bool:
                        return await db["outage_sends"].count_documents({"dlrs.status": "delivered"}) == CONTACTS

                    await eventually(all_reported, timeout=120)
                    await sara.close()
                    sara = await AgentClient(second.base_url).login("sara")

                    async def notice_done() -> dict[str, Any] | None:
                        found = (await sara.call("GET", f"/api/outages/{outage['id']}/notices/outage"))["notice"]
                        return found if found["state"] == "done" else None

                    progress = await eventually(notice_done, timeout=30)
                    assert progress["total"] == CONTACTS
                    assert progress["counts"]["delivered"] == CONTACTS
                    # Every report Kannel got for these SMS is on its entry (two each: SMSC ack, delivered).
                    password = (rig.dir / "admin-password").read_text().strip()
                    kannel_sent = await dlrs_from_the_smsc(rig.admin_port, password)
                    assert progress["counts"]["reports"] == kannel_sent, (progress["counts"], kannel_sent)
                finally:
                    second.stop()
            finally:
                await sara.close()
                collector.cancel()

    # Every contact of the area once; nobody else.
    received = Counter(receiver for _, receiver in arrivals)
    assert set(received) == {phone(i).removeprefix("+") for i in range(CONTACTS)} or set(received) == {
        phone(i) for i in range(CONTACTS)}
    assert max(received.values()) == 1, [r for r, n in received.items() if n > 1][:5]
    # At the configured rate: before the kill at most the budget on average, and in any one second at
    # most a second's budget plus a burst (a tenth of a second's worth) and Kannel's own bunching.
    times = [at for at, _ in arrivals]
    first_phase = times[:killed_at]
    assert killed_at / (first_phase[-1] - first_phase[0]) <= RATE * 1.05
    assert busiest_second(times) <= RATE + RATE // 4, busiest_second(times)
    # Each entry has its "delivered" report.
    sends = [doc async for doc in db["outage_sends"].find({}, {"dlrs": 1})]
    assert len(sends) == CONTACTS
    assert all(any(d["status"] == "delivered" for d in doc.get("dlrs", [])) for doc in sends)
    print(f"killed after {killed_at} SMS (cursor {left.get('cursor')}, in flight {left.get('inflight')}); "
          f"busiest second {busiest_second(times)}; {len(arrivals) / (times[-1] - times[0]):.0f} SMS/s overall")
