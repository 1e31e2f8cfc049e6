"""SIGKILL the hub while customers are sending: nothing the widget saw acknowledged is lost."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from pathlib import Path

import aiohttp

from hub.admin import create_agent, load_demo
from hub.storage.directory import MongoDirectory
from tests.clients import AgentClient, WidgetClient
from tests.conftest import eventually
from tests.processes import HubProcess

CUSTOMERS = 8


class RecordingCustomer:
    """Sends numbered messages as fast as acks come back, like the widget with its outbox."""

    def __init__(self, base_url: str, http: aiohttp.ClientSession, index: int) -> None:
        self.widget = WidgetClient(base_url, http)
        self.index = index
        self.acked: dict[str, str] = {}      # client_id -> text
        self.outbox: dict[str, str] = {}     # sent, not acknowledged yet

    async def run(self) -> None:
        with contextlib.suppress(ConnectionError, aiohttp.ClientError, TimeoutError):
            for n in range(10_000):
                client_id = uuid.uuid4().hex
                text = f"customer {self.index} message {n}"
                self.outbox[client_id] = text
                await self.widget.send(text, client_id)
                await self._acknowledged()

    async def _acknowledged(self) -> None:
        frame = await self.widget.next()
        while frame["type"] != "ack":
            assert frame["type"] != "error", frame
            frame = await self.widget.next()
        self.acked[frame["client_id"]] = self.outbox.pop(frame["client_id"])

    async def resend_outbox(self) -> None:
        for client_id, text in list(self.outbox.items()):
            await self.widget.send(text, client_id)
            await self._acknowledged()


async def test_sigkill_loses_no_acknowledged_message(mongo_url: str, redis_url: str, redis: object, db_name: str,
                                                     directory: MongoDirectory, tmp_path: Path) -> None:
    await load_demo(directory)
    await create_agent(directory, username="nightshift", display_name="Night Shift", role="agent",
                       password="northgrid-demo", skills=["general"], capacity={"webchat": CUSTOMERS})
    hub = await HubProcess(mongo_url=mongo_url, redis_url=redis_url, db_name=db_name,
                           log_path=tmp_path / "hub.log", webchat__rate_per_minute="100000",
                           webchat__frames_per_second="100000").start()
    try:
        async with aiohttp.ClientSession() as http:
            customers = [RecordingCustomer(hub.base_url, http, i) for i in range(CUSTOMERS)]
            for c in customers:
                await c.widget.connect()
            senders = [asyncio.create_task(c.run()) for c in customers]
            await eventually(lambda: sum(len(c.acked) for c in customers) >= 100)
            hub.kill()
            await asyncio.gather(*senders)
            acked_before_kill = sum(len(c.acked) for c in customers)

            await hub.start()
            for c in customers:  # the widget reconnects as the same visitor and resends its outbox
                await c.widget.connect()
                await c.resend_outbox()

            agent = await AgentClient.online(hub.base_url, "nightshift")
            try:
                conversations = {await agent.take_offer() for _ in range(CUSTOMERS)}
                assert len(conversations) == CUSTOMERS
                stored: list[str] = []
                for cid in conversations:
                    view = await agent.call("GET", f"/api/conversations/{cid}")
                    stored += [e["message"]["text"] for e in view["timeline"] if e["kind"] == "message"]
            finally:
                await agent.close()
    finally:
        hub.stop()

    expected = [text for c in customers for text in c.acked.values()]
    assert acked_before_kill >= 100
    assert sorted(stored) == sorted(expected)  # every acknowledged message, each exactly once
