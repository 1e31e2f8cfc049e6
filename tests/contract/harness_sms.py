"""Contract harness for SMS: the KannelSender against a real Kannel with a fake SMSC, and a hub that
receives MO through Kannel's get-url (tests/sms_env.py)."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator

from channels.sms.adapter import KannelSender
from channels.sms.channel import kannel_sender
from hub.bootstrap import RunningHub
from tests.sms_env import SHORT_CODE, SmsEnv, get, sms_environment

_numbers = itertools.count(1)


class SmsHarness:
    channel = "sms"

    def __init__(self, env: SmsEnv, sender: KannelSender) -> None:
        self.env = env
        self.sender = sender
        self.hub: RunningHub = env.hub
        self._last: tuple[str, str] | None = None

    async def customer_sends(self, sender: str, text: str) -> None:
        await self.env.smsc.send_mo(sender, SHORT_CODE, text)
        self._last = (sender, text)

    async def customer_received(self, address: str, timeout_s: float) -> list[str]:
        return await self.env.received(address, timeout_s)

    def buttons_seen(self, address: str) -> bool:
        return False  # SMS has no buttons: they arrive as numbered lines

    def customer_address(self) -> str:
        return f"+86139{next(_numbers):08d}"

    def invalid_address(self) -> str:
        return "not-a-number"

    async def peer_down(self) -> None:
        await self.env.kannel_down()

    async def peer_up(self) -> None:
        await self.env.kannel_up()

    async def redeliver_last_inbound(self) -> None:
        """Kannel repeats an MO (same ``%I``) when the hub's 200 did not reach it: replay that request."""
        assert self._last is not None, "customer_sends first"
        sender, text = self._last
        external_id = await self._last_external_id(sender)
        params = {"secret": self.env.secret, "from": sender, "to": SHORT_CODE, "text": text, "coding": "0",
                  "charset": "UTF-8", "id": external_id.removeprefix("kannel:"), "ts": "0", "smsc": "fake1"}
        status, _ = await get(self.env.mo_url, params)
        assert status == 200

    async def _last_external_id(self, sender: str) -> str:
        contact = await self.hub.context.inbox.contact_for("sms", sender, sender)
        conversation = await self.hub.context.inbox.open_conversation(contact["_id"])
        assert conversation is not None
        timeline = await self.hub.context.messages.timeline(conversation.id, include_private=True)
        return next(m.external_id for m in reversed(timeline) if m.address == sender and m.external_id)


@contextlib.asynccontextmanager
async def harness(*, mongo_url: str, redis_url: str, db_name: str) -> AsyncIterator[SmsHarness]:
    async with sms_environment(mongo_url=mongo_url, redis_url=redis_url, db_name=db_name) as env, \
            kannel_sender(env.hub.context.settings) as sender:
        yield SmsHarness(env, sender)
